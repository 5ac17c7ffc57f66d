//! Every ID parser on arbitrary input: the contract of
//! `tests/support/id_contract.rs` (round trip, one URL path segment,
//! lenient decoding kept safe, errors that keep the input) must hold.

#![no_main]

#[path = "../../tests/support/id_contract.rs"]
mod id_contract;

use id_contract::{check_contract, for_each_id_type};
use libfuzzer_sys::fuzz_target;
use phala_cloud::ids::*;

macro_rules! check_all {
    ($($name:ident: $ty:ty = $example:literal;)*) => {
        fn check_all(s: &str) {
            $(
                if let Err(broken) = check_contract::<$ty>(s) {
                    panic!("{}: {broken}", stringify!($ty));
                }
            )*
        }
    };
}

for_each_id_type!(check_all);

fuzz_target!(|data: &[u8]| {
    check_all(&String::from_utf8_lossy(data));
});
