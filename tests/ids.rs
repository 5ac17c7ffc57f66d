//! The ID types: their forms, normalisation and refusals (property tests),
//! that they stay one URL path segment, that the generated client uses them,
//! and that they cover every hashid kind of the spec.

#[path = "support/id_contract.rs"]
mod id_contract;

use std::fmt::Debug;

use httpmock::prelude::*;
use phala_cloud::ids::*;
use phala_cloud::{Client, Error};
use phala_cloud_codegen::inspect::hashid_kinds;
use phala_cloud_codegen::normalize::ID_TYPES;
use proptest::prelude::*;
use serde_json::{json, Value};
use support::fixture;

use id_contract::{check_contract, for_each_id_type};

/// What a URL must never receive inside an ID (besides the empty string).
const INJECTIONS: &[&str] = &[
    "/", "\\", "..", "?", "#", "%", "%2F", " ", "\t", "\n", "\r", "\u{0}", "\u{7f}", "\u{85}",
    "\u{a0}", "\u{2028}",
];

/// Inputs that mix valid ID characters with everything a path must not get.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z0-9_.~-]{0,6}",
        "(cvm|kms|app|usr|wks|in|ini)_[a-zA-Z0-9/\\\\.?#% \t\n\u{0}\u{7f}\u{85}\u{2028}é-]{0,12}",
        "[0-9a-fA-F/.?#% x-]{30,44}",
    ]
}

macro_rules! contract_properties {
    ($($name:ident: $ty:ty = $example:literal;)*) => {
        $(
            mod $name {
                use super::*;

                proptest! {
                    #[test]
                    fn any_input_keeps_the_contract(s in hostile()) {
                        check_contract::<$ty>(&s).map_err(TestCaseError::fail)?;
                    }

                    #[test]
                    fn a_fragment_injected_into_a_valid_id_is_refused(
                        at in 0..=$example.len(),
                        fragment in prop::sample::select(INJECTIONS),
                    ) {
                        let mut s = String::from($example);
                        s.insert_str(at, fragment);
                        prop_assert!(s.parse::<$ty>().is_err(), "{s:?} was accepted");
                    }
                }

                #[test]
                fn the_example_is_valid_and_the_empty_string_is_not() {
                    let id: $ty = $example.parse().unwrap();
                    check_contract::<$ty>(id.as_str()).unwrap();
                    let err = "".parse::<$ty>().unwrap_err();
                    assert_eq!(err.input(), "");
                }
            }
        )*
    };
}

for_each_id_type!(contract_properties);

/// Random case for each ASCII letter of `s`.
fn any_case(s: String) -> impl Strategy<Value = String> {
    let n = s.len();
    prop::collection::vec(any::<bool>(), n).prop_map(move |upper| {
        s.chars()
            .zip(upper)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

fn hex(bytes: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), bytes)
        .prop_map(|b| b.iter().map(|x| format!("{x:02x}")).collect())
}

/// A UUID's 32 digits, and a spelling of it: any case, each dash optional.
fn uuid_spelling() -> impl Strategy<Value = (String, String)> {
    (hex(16), prop::collection::vec(any::<bool>(), 4)).prop_flat_map(|(digits, dashes)| {
        let mut spelled = String::new();
        let mut at = 0;
        for (i, len) in [8, 4, 4, 4, 12].into_iter().enumerate() {
            if i > 0 && dashes[i - 1] {
                spelled.push('-');
            }
            spelled.push_str(&digits[at..at + len]);
            at += len;
        }
        any_case(spelled).prop_map(move |s| (digits.clone(), s))
    })
}

fn hyphenated(digits: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &digits[..8],
        &digits[8..12],
        &digits[12..16],
        &digits[16..20],
        &digits[20..]
    )
}

macro_rules! hashid_properties {
    ($($ty:ident),*) => {
        proptest! {
            #[test]
            fn a_hashid_is_its_prefix_and_letters_and_digits(body in "[a-zA-Z0-9]{1,24}") {
                $(
                    let s = format!("{}_{body}", $ty::PREFIX);
                    prop_assert_eq!(s.parse::<$ty>().unwrap(), s.as_str());
                )*
            }

            #[test]
            fn a_hashid_of_another_kind_is_refused(body in "[a-zA-Z0-9]{1,24}") {
                $(
                    for (prefix, _) in HASHID_KINDS.iter().filter(|(p, _)| *p != $ty::PREFIX) {
                        let s = format!("{prefix}_{body}");
                        let err = s.parse::<$ty>().unwrap_err();
                        let wanted = format!("`{}_`", $ty::PREFIX);
                        let named = err.to_string().contains(&wanted);
                        prop_assert!(named, "{}", err);
                    }
                )*
            }

            #[test]
            fn a_server_value_of_an_unknown_form_is_kept(s in "[a-z]{1,5}_[a-zA-Z0-9]{1,12}|[a-z0-9-]{1,12}") {
                $(
                    let id: $ty = serde_json::from_value(json!(s)).unwrap();
                    prop_assert_eq!(id.as_str(), s.as_str());
                )*
            }
        }

        #[test]
        fn each_hashid_type_is_mapped_by_the_generator() {
            $(
                let format = format!("hashid:{}", $ty::PREFIX);
                let mapped = ID_TYPES.iter().find(|t| t.format == format).map(|t| t.rust_type);
                assert_eq!(mapped, Some(concat!("crate::ids::", stringify!($ty))), "{format}");
            )*
            assert_eq!(HASHID_KINDS.len(), [$($ty::PREFIX),*].len());
        }
    };
}

hashid_properties!(
    CreditId,
    CreditTransactionId,
    CvmId,
    GpuRentalOrderId,
    InvoiceId,
    InvoiceItemId,
    KmsId,
    OrderId,
    PortMappingId,
    ProjectId,
    UserId,
    WorkspaceId
);

proptest! {
    #[test]
    fn app_ids_are_lower_case_without_0x(digits in hex(20), case in any::<u64>(), prefix in "(0x|0X)?") {
        let spelled = format!("{prefix}{}", spell_case(&digits, case));
        let app: AppId = spelled.parse().unwrap();
        prop_assert_eq!(app.as_str(), digits.as_str());
        let prefixed = format!("app_{digits}");
        prop_assert_eq!(app.with_app_prefix(), Some(prefixed.as_str()));
    }

    #[test]
    fn compose_hashes_are_lower_case_without_0x(digits in hex(32), case in any::<u64>(), prefix in "(0x|0X)?") {
        let spelled = format!("{prefix}{}", spell_case(&digits, case));
        prop_assert_eq!(spelled.parse::<ComposeHash>().unwrap(), digits.as_str());
    }

    #[test]
    fn quote_checksums_are_lower_case_and_take_no_0x(digits in hex(32), case in any::<u64>()) {
        let spelled = spell_case(&digits, case);
        prop_assert_eq!(spelled.parse::<QuoteChecksum>().unwrap(), digits.as_str());
        let with_0x = format!("0x{digits}");
        prop_assert!(with_0x.parse::<QuoteChecksum>().is_err());
    }

    #[test]
    fn hex_of_another_length_is_refused(digits in hex(40), len in 0usize..80) {
        let cut = &digits[..len];
        prop_assert_eq!(cut.parse::<AppId>().is_ok(), len == 40);
        prop_assert_eq!(cut.parse::<ComposeHash>().is_ok(), len == 64);
        prop_assert_eq!(cut.parse::<QuoteChecksum>().is_ok(), len == 64);
    }

    #[test]
    fn vm_uuids_are_hyphenated_lower_case((digits, spelled) in uuid_spelling()) {
        let uuid: VmUuid = spelled.parse().unwrap();
        let canonical = hyphenated(&digits);
        prop_assert_eq!(uuid.as_str(), canonical.as_str());
        prop_assert_eq!(uuid.simple(), Some(digits.as_str()));
    }

    #[test]
    fn a_uuid_names_a_cvm_by_its_digits((digits, spelled) in uuid_spelling()) {
        let cvm: CvmRef = spelled.parse().unwrap();
        prop_assert!(matches!(cvm, CvmRef::Uuid(_)), "{:?}", cvm);
        prop_assert_eq!(cvm.as_str(), digits.as_str());
    }

    #[test]
    fn a_hex_app_id_names_a_cvm_as_app_prefixed(digits in hex(20), case in any::<u64>(), app_prefix in any::<bool>()) {
        let prefix = if app_prefix { "app_" } else { "" };
        let cvm: CvmRef = format!("{prefix}{}", spell_case(&digits, case)).parse().unwrap();
        prop_assert!(matches!(cvm, CvmRef::AppId(_)), "{:?}", cvm);
        let prefixed = format!("app_{digits}");
        prop_assert_eq!(cvm.as_str(), prefixed.as_str());
        let with_0x = format!("0x{digits}");
        prop_assert!(with_0x.parse::<CvmRef>().is_err());
    }

    #[test]
    fn a_number_names_a_cvm_by_its_legacy_id(n in any::<u64>(), zeros in 0usize..3) {
        let cvm: CvmRef = format!("{}{n}", "0".repeat(zeros)).parse().unwrap();
        prop_assert_eq!(&cvm, &CvmRef::Legacy(LegacyCvmId::from(n)));
        let decimal = n.to_string();
        prop_assert_eq!(cvm.as_str(), decimal.as_str());
    }

    #[test]
    fn a_hostname_names_a_cvm_as_is(name in "[a-zA-Z][a-zA-Z0-9]{0,8}(-[a-zA-Z0-9]{1,8}){0,6}") {
        let parsed = name.parse::<CvmRef>();
        if !(5..=63).contains(&name.len()) {
            prop_assert!(parsed.is_err());
        } else if name.parse::<VmUuid>().is_ok() {
            prop_assert!(matches!(parsed, Ok(CvmRef::Uuid(_))), "{:?}", parsed);
        } else if name.len() == 40 && name.parse::<AppId>().is_ok() {
            prop_assert!(matches!(parsed, Ok(CvmRef::AppId(_))), "{:?}", parsed);
        } else {
            let cvm = parsed.unwrap();
            prop_assert!(matches!(cvm, CvmRef::Name(_)), "{:?}", cvm);
            prop_assert_eq!(cvm.as_str(), name.as_str());
        }
    }

    #[test]
    fn a_cvm_id_names_a_cvm_as_is(body in "[a-zA-Z0-9]{1,16}") {
        let cvm: CvmRef = format!("cvm_{body}").parse().unwrap();
        prop_assert!(matches!(cvm, CvmRef::Id(_)), "{:?}", cvm);
    }

    #[test]
    fn a_kms_is_named_by_id_or_slug(body in "[a-zA-Z0-9]{1,16}", slug in "[a-z0-9]((-*|\\.)[a-z0-9]){0,10}") {
        let by_id: KmsRef = format!("kms_{body}").parse().unwrap();
        prop_assert!(matches!(by_id, KmsRef::Id(_)), "{:?}", by_id);
        let by_slug: KmsRef = slug.parse().unwrap();
        prop_assert!(matches!(&by_slug, KmsRef::Slug(_)), "{:?}", by_slug);
        prop_assert_eq!(by_slug.as_str(), slug.as_str());
    }

    #[test]
    fn a_path_segment_is_any_unreserved_run(s in "[a-zA-Z0-9_~-]([a-zA-Z0-9_~-]|\\.[a-zA-Z0-9_~-]){0,20}") {
        prop_assert_eq!(s.parse::<PathSegment>().unwrap(), s.as_str());
    }
}

/// `digits` with the letters whose bit is set in `case` upper-cased.
fn spell_case(digits: &str, case: u64) -> String {
    digits
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if case >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

#[test]
fn the_official_sdks_cvm_id_examples() {
    // go/helpers_test.go and the JS tests.
    let cases = [
        (
            "550E8400-E29B-41D4-A716-446655440000",
            "550e8400e29b41d4a716446655440000",
        ),
        ("cvm_ykL5lbAn", "cvm_ykL5lbAn"),
        ("123", "123"),
        ("my-cvm", "my-cvm"),
        (
            "app_2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4",
            "app_2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4",
        ),
        (
            "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4",
            "app_2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4",
        ),
    ];
    for (input, sent) in cases {
        assert_eq!(input.parse::<CvmRef>().unwrap().as_str(), sent, "{input}");
    }
    // 39 and 41 hex digits: neither an app id nor a name (they start with a digit).
    assert!("2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c"
        .parse::<CvmRef>()
        .is_err());
    assert!("2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c40"
        .parse::<CvmRef>()
        .is_err());
}

#[test]
fn parse_errors_name_the_kind_the_form_and_the_input() {
    let err = "not a valid/id".parse::<CvmRef>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid CVM reference \"not a valid/id\": expected a `cvm_` id, a UUID, a 40-hex app \
         id (optionally `app_`-prefixed), a numeric legacy id, or a CVM name (5-63 letters, \
         digits and single hyphens, starting with a letter)"
    );
    let err = AppId::try_from(String::from("0xabc")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid app id \"0xabc\": expected 40 hex digits, optionally prefixed with `0x`"
    );
    assert_eq!(err.into_input(), "0xabc");
}

/// What an answer must never get past decoding, for any kind: not one URL
/// path segment, or over `MAX_ID_LEN` bytes.
fn unsafe_server_values() -> Vec<String> {
    let mut values: Vec<String> = [
        "", ".", "..", "../admin", "a/b", "a\\b", "a?b", "a#b", "a%2Fb", "a b", "a\tb", "a\u{0}b",
        "a\u{85}b",
    ]
    .map(String::from)
    .into();
    values.push("a".repeat(MAX_ID_LEN + 1));
    values
}

/// Checks `T`'s two readings on `odd`, a value no strict reading accepts
/// but safe as one path segment: parsing refuses it; decoding keeps it as
/// sent, serializes it back unchanged; decoding refuses what is unsafe,
/// `odd` with a separator included.
fn check_lenient<T>(odd: &str)
where
    T: std::str::FromStr<Err = ParseIdError> + TryFrom<String, Error = ParseIdError>,
    T: serde::de::DeserializeOwned + serde::Serialize + AsRef<str> + std::fmt::Display + Debug,
{
    let err = odd.parse::<T>().unwrap_err();
    assert_eq!(err.input(), odd);
    assert!(T::try_from(odd.to_string()).is_err(), "{odd:?}");

    let kept: T = serde_json::from_value(json!(odd)).unwrap();
    assert_eq!(kept.as_ref(), odd);
    assert_eq!(kept.to_string(), odd);
    assert_eq!(serde_json::to_value(&kept).unwrap(), json!(odd));
    let in_an_answer: Vec<T> = serde_json::from_str(&format!("[{}]", json!(odd))).unwrap();
    assert_eq!(
        serde_json::to_string(&in_an_answer).unwrap(),
        format!("[{}]", json!(odd))
    );

    let mut refused = unsafe_server_values();
    refused.extend([
        format!("{odd}/x"),
        format!("../{odd}"),
        format!("{odd}?x=1"),
    ]);
    for value in refused {
        let err = serde_json::from_value::<T>(json!(value)).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("one URL path segment") || message.contains("at most 256 bytes"),
            "{value:?}: {message}"
        );
        assert!(message.len() < 400, "{message}");
    }
}

/// A value that none of the strict readings accepts (`:` is in no ID's
/// alphabet) and that is safe as one path segment.
const ODD: &str = "odd:value";

macro_rules! lenient_for_every_kind {
    ($($name:ident: $ty:ty = $example:literal;)*) => {
        mod lenient_for_every_kind {
            use super::*;

            $(
                #[test]
                fn $name() {
                    check_lenient::<$ty>(ODD);
                }
            )*
        }
    };
}

for_each_id_type!(lenient_for_every_kind);

/// Each kind with an odd value of its own: what a server might plausibly
/// send instead of the documented form.
#[test]
fn each_kind_keeps_a_plausible_odd_answer_value() {
    // The longest value an answer may carry is kept too.
    check_lenient::<AppId>(&"a:".repeat(MAX_ID_LEN / 2));
    check_lenient::<KmsId>("kc_abc");
    check_lenient::<CvmId>("cvm-12");
    check_lenient::<WorkspaceId>("wks_a-b");
    check_lenient::<AppId>("app-1");
    check_lenient::<AppId>(&format!("app_{}", "ab".repeat(20)));
    check_lenient::<ComposeHash>(&format!("sha256:{}", "ab".repeat(32)));
    check_lenient::<QuoteChecksum>(&format!("0x{}", "ab".repeat(32)));
    check_lenient::<VmUuid>("uuid-1");
    check_lenient::<CvmRef>("my_cvm");
    check_lenient::<CvmName>("cvm");
    check_lenient::<LegacyCvmId>("-1");
    check_lenient::<KmsRef>("Phala-Prod");
    check_lenient::<KmsSlug>("Phala");
    check_lenient::<PathSegment>("evt:1");
}

#[test]
fn a_documented_form_decodes_normalized_as_before() {
    let app: AppId =
        serde_json::from_value(json!("0x2A7B4D0D0C0883D0D3119C36EB25A1F72122A7C4")).unwrap();
    assert_eq!(app.as_str(), "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4");
    assert_eq!(app.to_bytes().unwrap()[0], 0x2a);
    let uuid: VmUuid = serde_json::from_value(json!("C48D936321B24F4A87D93496623F020D")).unwrap();
    assert_eq!(uuid.as_str(), "c48d9363-21b2-4f4a-87d9-3496623f020d");
    let legacy: LegacyCvmId = serde_json::from_value(json!("007")).unwrap();
    assert_eq!((legacy.get(), legacy.as_str()), (Some(7), "7"));
    let cvm: CvmRef = serde_json::from_value(json!("123")).unwrap();
    assert_eq!(cvm, CvmRef::Legacy(LegacyCvmId::from(123)));
}

#[test]
fn a_kept_value_has_no_parsed_form_to_give() {
    let app: AppId = serde_json::from_value(json!("app-1")).unwrap();
    let err = app.to_bytes().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid app id \"app-1\": expected 40 hex digits, optionally prefixed with `0x`"
    );
    assert_eq!(app.with_app_prefix(), None);
    // A reference made of it is sent as the server sent it.
    assert_eq!(CvmRef::from(app).as_str(), "app-1");

    let hash: ComposeHash = serde_json::from_value(json!("sha256:ab")).unwrap();
    assert_eq!(hash.to_bytes().unwrap_err().kind(), "compose hash");

    let uuid: VmUuid = serde_json::from_value(json!("uuid-1")).unwrap();
    assert_eq!(uuid.simple(), None);
    assert_eq!(CvmRef::from(uuid).as_str(), "uuid-1");

    let legacy: LegacyCvmId = serde_json::from_value(json!("-1")).unwrap();
    assert_eq!(legacy.get(), None);

    let cvm: CvmRef = serde_json::from_value(json!("cvm_a-b")).unwrap();
    assert!(
        matches!(&cvm, CvmRef::Name(name) if name.as_str() == "cvm_a-b"),
        "{cvm:?}"
    );
    let kms: KmsRef = serde_json::from_value(json!("kms_a-b")).unwrap();
    assert!(
        matches!(&kms, KmsRef::Slug(slug) if slug.as_str() == "kms_a-b"),
        "{kms:?}"
    );
    // A lenient id still converts into a reference for a path.
    let odd: KmsId = serde_json::from_value(json!("kc_abc")).unwrap();
    assert_eq!(KmsRef::from(&odd).as_str(), "kc_abc");
}

#[test]
fn a_kept_value_is_a_typed_error_where_its_bytes_are_needed() {
    use phala_cloud::kms_signature::{
        recover_legacy_signer, recover_v1_signer, Freshness, SignatureError,
    };
    use phala_cloud::mr_config::{KeyProvider, MrConfigError, MrConfigId, MrConfigV3};

    let app: AppId = serde_json::from_value(json!("app-1")).unwrap();
    let hash: ComposeHash = serde_json::from_value(json!("sha256:ab")).unwrap();
    let good_app: AppId = "ab".repeat(20).parse().unwrap();
    let good_hash = ComposeHash::from([0x22; 32]);

    assert!(matches!(MrConfigId::v1(&hash), Err(MrConfigError::Id(e)) if e.input() == "sha256:ab"));
    assert!(MrConfigId::v1(&good_hash).is_ok());
    for (hash, app, bad) in [(&hash, &good_app, "sha256:ab"), (&good_hash, &app, "app-1")] {
        let err = MrConfigId::v2(hash, app, KeyProvider::Kms, &[1]).unwrap_err();
        assert!(
            matches!(&err, MrConfigError::Id(e) if e.input() == bad),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("cannot compute an mr_config_id from it: invalid "),
            "{err}"
        );
    }
    assert!(MrConfigId::v2(&good_hash, &good_app, KeyProvider::Kms, &[1]).is_ok());
    let v3 = MrConfigV3::new(good_hash.clone(), KeyProvider::None);
    assert!(v3.document().is_ok());
    assert!(matches!(
        v3.clone().app_id(app.clone()).document(),
        Err(MrConfigError::Id(_))
    ));
    assert!(v3.app_id(good_app).mr_config_id().is_ok());
    assert!(matches!(
        MrConfigV3::new(hash, KeyProvider::None).snp_host_data(),
        Err(MrConfigError::Id(_))
    ));

    let signature = format!("{}00", "11".repeat(64)).parse().unwrap();
    let err = recover_legacy_signer(&app, &[0; 32], &signature).unwrap_err();
    assert!(
        matches!(&err, SignatureError::AppId(e) if e.input() == "app-1"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("no KMS signature can be checked for this app id: "),
        "{err}"
    );
    let err = recover_v1_signer(
        &app,
        &[0; 32],
        0,
        &signature,
        Freshness::default().at(std::time::UNIX_EPOCH),
    )
    .unwrap_err();
    assert!(matches!(err, SignatureError::AppId(_)), "{err:?}");
}

/// Every hashid kind of `spec` that has no ID type, as a message.
fn kinds_without_a_type(spec: &Value) -> Vec<String> {
    hashid_kinds(spec)
        .into_iter()
        .filter(|(prefix, table)| !HASHID_KINDS.contains(&(prefix.as_str(), table.as_str())))
        .map(|(prefix, table)| {
            format!(
                "hashid kind `{prefix}_` (HashedId[{table}]) has no ID type: add its \
                 `hashid!` row to ID_TYPES in codegen/src/normalize/id_formats.rs"
            )
        })
        .collect()
}

fn vendored_spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn every_hashid_kind_of_the_spec_has_an_id_type() {
    let spec = vendored_spec();
    assert_eq!(kinds_without_a_type(&spec), Vec::<String>::new());
    assert_eq!(
        hashid_kinds(&spec).len(),
        HASHID_KINDS.len(),
        "a kind left the spec"
    );
}

#[test]
fn a_new_kind_in_a_refreshed_spec_is_named() {
    let mut spec = vendored_spec();
    spec["components"]["schemas"]["Refreshed"] = json!({"properties": {"id": {
        "type": "string", "format": "hashid", "pattern": "^whk_.+", "title": "HashedId[webhooks]"
    }}});
    assert_eq!(
        kinds_without_a_type(&spec),
        [
            "hashid kind `whk_` (HashedId[webhooks]) has no ID type: add its `hashid!` row \
             to ID_TYPES in codegen/src/normalize/id_formats.rs"
        ]
    );
}

fn client(server: &MockServer) -> Client {
    support::client(&server.base_url(), phala_cloud::RetryPolicy::default())
}

/// The message of an `Error::InvalidRequest`.
fn invalid_request<T: Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(Error::InvalidRequest(message)) => message,
        other => panic!("expected an invalid request, got {other:?}"),
    }
}

#[tokio::test]
async fn an_invalid_id_fails_before_any_request_is_sent() {
    let server = MockServer::start_async().await;
    let anything = server
        .mock_async(|_, then| {
            then.status(200).body("{}");
        })
        .await;
    let client = client(&server);

    let message = invalid_request(client.get_cvm().cvm_id("not a valid/id").send().await);
    assert_eq!(
        message,
        format!(
            "cvm_id: {}",
            "not a valid/id".parse::<CvmRef>().unwrap_err()
        )
    );
    let message = invalid_request(client.get_kms_info().kms_id("..").send().await);
    assert!(
        message.starts_with("kms_id: invalid KMS reference \"..\": expected "),
        "{message}"
    );
    let message = invalid_request(
        client
            .get_app_env_encrypt_pubkey()
            .kms_id("phala")
            .app_id("0xabc")
            .send()
            .await,
    );
    assert!(message.starts_with("app_id: invalid app id"), "{message}");
    for key in ["", "a/b", "a?b", "a#b", "%2e%2e", "a b", "a\u{0}"] {
        let message = invalid_request(client.delete_ssh_key().key_id(key).send().await);
        assert!(
            message.starts_with("key_id: invalid path segment"),
            "{message}"
        );
    }
    let err = client
        .get_cvm()
        .cvm_id("cvm_ykL5lbAn?x=1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid request: cvm_id: invalid CVM reference \"cvm_ykL5lbAn?x=1\": expected a \
         `cvm_` id, a UUID, a 40-hex app id (optionally `app_`-prefixed), a numeric legacy id, \
         or a CVM name (5-63 letters, digits and single hyphens, starting with a letter)"
    );

    assert_eq!(
        anything.calls_async().await,
        0,
        "no request reached the server"
    );
}

#[tokio::test]
async fn kms_info_id_decodes_into_a_kms_id_and_goes_back_into_a_path() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v1/kms/kms_8xNq2bLw");
            then.status(200)
                .header("content-type", "application/json")
                .body(fixture("GET_api_v1_kms_{kms_id}__hashid.json"));
        })
        .await;
    let client = client(&server);

    let kms = client
        .get_kms_info()
        .kms_id("kms_8xNq2bLw")
        .send()
        .await
        .unwrap()
        .into_inner();
    let id: &KmsId = &kms.id;
    assert_eq!(id, &"kms_8xNq2bLw".parse::<KmsId>().unwrap());

    let again = client.get_kms_info().kms_id(id).send().await.unwrap();
    assert_eq!(again.id, *id);
    mock.assert_calls_async(2).await;
}

#[tokio::test]
async fn a_kms_id_of_an_unknown_form_still_decodes() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v1/kms/phala");
            then.status(200)
                .header("content-type", "application/json")
                .body(fixture("GET_api_v1_kms_{kms_id}__py-action-matrix.json"));
        })
        .await;

    let kms = client(&server)
        .get_kms_info()
        .kms_id("phala")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(kms.id.as_str(), "k1");
    assert!("k1".parse::<KmsId>().is_err(), "only decoding is lenient");
}

/// The acceptance test of "one vocabulary": one CVM as the `CvmRef` a deploy
/// gives, the `VmUuid` an answer carries and the `cvm_id` of a webhook
/// compare equal, and the deploy's reference is passed on by reference.
#[tokio::test]
async fn one_cvm_is_one_id_in_a_deploy_an_answer_and_a_webhook() {
    use phala_cloud::mock::deploy::{MockDeployExt, TestKms, VM_UUID};
    use phala_cloud::mock::{self, webhook, MockServer};
    use phala_cloud::webhook::{EventData, WebhookVerifier};

    let server = MockServer::start_async().await;
    server.mock_deploy(&TestKms::new());
    let client = mock::client(&server);
    let deployment = client
        .deploy("services:\n  web:\n    image: nginx:1.27\n")
        .name("my-web-app")
        .send()
        .await
        .unwrap();
    let answer = client
        .get_cvm()
        .cvm_id(&deployment.cvm_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    let from_answer: VmUuid = answer.vm_uuid.unwrap();

    // The webhook spells it upper-case here, dashed, unlike the path form.
    let mut cvm = webhook::cvm_event();
    cvm.cvm_id = VM_UUID.to_uppercase().parse().unwrap();
    let (headers, body) = webhook::deliver("whsec_t", &webhook::event(EventData::CvmUpdated(cvm)));
    let event = WebhookVerifier::new("whsec_t")
        .parse_event(&headers, &body)
        .unwrap();
    let EventData::CvmUpdated(from_webhook) = &event.data else {
        panic!("{event:?}");
    };

    assert_eq!(deployment.cvm_id, from_answer);
    assert_eq!(deployment.cvm_id, from_webhook.cvm_id);
    assert_eq!(from_answer, from_webhook.cvm_id);
    assert_eq!(from_webhook.cvm_id, deployment.cvm_id);
    assert_eq!(deployment.cvm_id, from_webhook.cvm_id.as_str());
    assert_eq!(deployment.cvm_id, VM_UUID.to_uppercase().as_str());
    // And every setter and flow takes the reference by reference.
    let _update = client.update_env_vars(&deployment.cvm_id, [("API_TOKEN", "n3w")]);
    let _compose = client.update_compose(&deployment.cvm_id, "services: {}\n");
    let _by_uuid = client.get_cvm().cvm_id(&from_answer);
}

/// A `Hash` that agrees with `Eq`: every spelling of one reference is one
/// key.
fn hash_of<T: std::hash::Hash>(value: &T) -> u64 {
    use std::hash::{BuildHasher, RandomState};
    thread_local!(static STATE: RandomState = RandomState::new());
    STATE.with(|state| state.hash_one(value))
}

#[test]
fn a_uuid_compares_and_hashes_the_same_however_it_is_spelled() {
    let spellings = [
        "0B6F2C4E-5A1D-4E8F-9C3B-7D2A1E6F4B80",
        "0b6f2c4e5a1d4e8f9c3b7d2a1e6f4b80",
        "0b6f2c4e-5a1d4e8f-9c3b-7d2a1e6f4b80",
    ];
    let uuids: Vec<VmUuid> = spellings.iter().map(|s| s.parse().unwrap()).collect();
    let refs: Vec<CvmRef> = spellings.iter().map(|s| s.parse().unwrap()).collect();
    for (uuid, reference) in uuids.iter().zip(&refs) {
        assert_eq!(uuid, &uuids[0]);
        assert_eq!(hash_of(uuid), hash_of(&uuids[0]));
        assert_eq!(uuid.to_string(), "0b6f2c4e-5a1d-4e8f-9c3b-7d2a1e6f4b80");
        assert_eq!(reference, &refs[0]);
        assert_eq!(hash_of(reference), hash_of(&refs[0]));
        assert_eq!(reference.to_string(), "0b6f2c4e5a1d4e8f9c3b7d2a1e6f4b80");
        assert_eq!(reference, uuid);
        assert_eq!(uuid, reference);
        assert_eq!(CvmRef::from(uuid), *reference);
        for spelling in spellings {
            assert_eq!(uuid, &spelling);
            assert_eq!(reference, &spelling);
            assert_eq!(*reference, spelling.to_string());
        }
    }
    assert_eq!(refs[0].as_str(), "0b6f2c4e5a1d4e8f9c3b7d2a1e6f4b80");
    let other: VmUuid = "0b6f2c4e-5a1d-4e8f-9c3b-7d2a1e6f4b81".parse().unwrap();
    assert_ne!(refs[0], other);
    assert_ne!(refs[0], CvmRef::from(&other));
    assert_ne!(other, refs[0]);
    assert_ne!(refs[0], "0b6f2c4e-5a1d-4e8f-9c3b-7d2a1e6f4b81");
}

#[test]
fn a_reference_equals_the_id_it_names() {
    let app: AppId = "0x2A7B4D0D0C0883D0D3119C36EB25A1F72122A7C4"
        .parse()
        .unwrap();
    let id: CvmId = "cvm_ykL5lbAn".parse().unwrap();
    for spelling in [
        "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4",
        "app_2A7B4D0D0C0883D0D3119C36EB25A1F72122A7C4",
    ] {
        let by_app: CvmRef = spelling.parse().unwrap();
        assert_eq!(by_app, app);
        assert_eq!(app, by_app);
        assert_eq!(by_app, CvmRef::from(&app));
        assert_eq!(hash_of(&by_app), hash_of(&CvmRef::from(&app)));
        assert_ne!(by_app, id);
    }
    assert_eq!(
        CvmRef::from(&app).as_str(),
        "app_2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4"
    );
    let other_app = AppId::from([0x2a; 20]);
    assert_ne!(CvmRef::from(&app), other_app);
    assert_ne!(CvmRef::from(&other_app), CvmRef::from(&app));
    let by_id = CvmRef::from(&id);
    assert_eq!(by_id, id);
    assert_eq!(id, by_id);
    assert_ne!(by_id, app);
    assert_ne!(app, by_id);
    assert_ne!(by_id, "cvm_ykL5lbAm");
    // A name names no id that can be known here.
    let by_name: CvmRef = "web-prod".parse().unwrap();
    assert_ne!(by_name, app);
    assert_ne!(by_name, id);
    assert_eq!(by_name, "web-prod");
    assert_ne!(by_name, "Web-prod");
    let legacy = LegacyCvmId::from(42);
    assert_eq!(CvmRef::from(&legacy), "0042");
    let name: CvmName = "web-prod".parse().unwrap();
    assert_eq!(CvmRef::from(&name), by_name);
}

#[test]
fn strings_are_read_as_ids_and_kept_values_compare_by_text() {
    let app: AppId = "2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4".parse().unwrap();
    assert_eq!(app, "0x2A7B4D0D0C0883D0D3119C36EB25A1F72122A7C4");
    assert_eq!(
        app,
        "0x2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c4".to_string()
    );
    assert_ne!(app, "0x2a7b4d0d0c0883d0d3119c36eb25a1f72122a7c5");
    assert_ne!(app, "app-1");
    let hash: ComposeHash = "ab".repeat(32).parse().unwrap();
    assert_eq!(hash, format!("0x{}", "AB".repeat(32)).as_str());

    // Kept as sent: equal to exactly their text, in every variant that
    // holds them, and hashed alike.
    let kept: AppId = serde_json::from_value(json!("app-1")).unwrap();
    assert_eq!(kept, "app-1");
    assert_ne!(kept, "APP-1");
    let kept_uuid: VmUuid = serde_json::from_value(json!("uuid-1")).unwrap();
    let decoded: CvmRef = serde_json::from_value(json!("uuid-1")).unwrap();
    assert!(matches!(decoded, CvmRef::Name(_)));
    assert_eq!(CvmRef::from(&kept_uuid), decoded);
    assert_eq!(hash_of(&CvmRef::from(&kept_uuid)), hash_of(&decoded));
    assert_eq!(decoded, kept_uuid);
    assert_eq!(CvmRef::from(&kept_uuid), "uuid-1");
    let kept_kms: KmsId = serde_json::from_value(json!("kc_abc")).unwrap();
    let decoded_kms: KmsRef = serde_json::from_value(json!("kc_abc")).unwrap();
    assert!(matches!(decoded_kms, KmsRef::Slug(_)));
    assert_eq!(KmsRef::from(&kept_kms), decoded_kms);
    assert_eq!(hash_of(&KmsRef::from(&kept_kms)), hash_of(&decoded_kms));
    let slug: KmsSlug = "phala-prod3".parse().unwrap();
    assert_ne!(KmsRef::from(&slug), decoded_kms);
    assert_eq!(KmsRef::from(&slug), "phala-prod3");
}

#[test]
fn every_id_converts_from_a_reference_to_it() {
    fn by_ref<T: Clone + PartialEq + Debug>(id: T)
    where
        for<'a> &'a T: TryInto<T, Error = std::convert::Infallible>,
    {
        let copy: T = (&id).try_into().unwrap_or_else(|e| match e {});
        assert_eq!(copy, id);
    }
    by_ref("cvm_ykL5lbAn".parse::<CvmRef>().unwrap());
    by_ref("kms_0123abcd".parse::<KmsRef>().unwrap());
    by_ref("kms_0123abcd".parse::<KmsId>().unwrap());
    by_ref(
        "0b6f2c4e5a1d4e8f9c3b7d2a1e6f4b80"
            .parse::<VmUuid>()
            .unwrap(),
    );
    by_ref("ab".repeat(20).parse::<AppId>().unwrap());
    by_ref("evt_01".parse::<PathSegment>().unwrap());
}
