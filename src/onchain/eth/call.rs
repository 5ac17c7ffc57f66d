//! Calldata without a wallet: every write of the dstack contracts as a
//! typed `to` / `data` / `chain_id`, for a Safe or any signer.

use alloy_primitives::{Address, Bytes, B256};
use alloy_sol_types::SolCall;
use serde::Serialize;

use super::contracts::{DstackApp, DstackKms};

/// One contract call to sign and send: the chain, the contract, the ABI
/// encoded data. The value is always zero: no dstack write is payable.
///
/// Serializes as `{"chain_id", "to", "data", "function"}` (`to` and `data`
/// as `0x` hex), the fields a Safe transaction or `cast send` takes;
/// `Display` of `to` gives the checksummed form.
///
/// ```
/// use phala_cloud::onchain::eth::{AppContract, Address, B256, BASE_CHAIN_ID};
///
/// let app = AppContract::new(BASE_CHAIN_ID, Address::repeat_byte(0x0a));
/// let call = app.add_compose_hash(B256::repeat_byte(0x11));
/// assert_eq!(call.function, "addComposeHash(bytes32)");
/// assert_eq!(call.data[..4], [0xdf, 0xc7, 0x72, 0x23]);
/// assert_eq!(serde_json::to_value(&call)?["chain_id"], 8453);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Call {
    /// The EVM chain id the call is for.
    pub chain_id: u64,
    /// The contract to call.
    pub to: Address,
    /// The calldata: selector and ABI-encoded arguments.
    pub data: Bytes,
    /// The function's Solidity signature (`addComposeHash(bytes32)`).
    pub function: &'static str,
    /// Only the contract's owner may make it: sending checks `owner()` first.
    #[serde(skip)]
    pub(crate) owner_only: bool,
}

impl Call {
    fn new<C: SolCall>(chain_id: u64, to: Address, call: &C, owner_only: bool) -> Self {
        Self {
            chain_id,
            to,
            data: call.abi_encode().into(),
            function: C::SIGNATURE,
            owner_only,
        }
    }
}

/// An app's `DstackApp` contract: its chain and address (the app id).
///
/// Its methods named after the contract's writes give the [`Call`] to sign;
/// with the `onchain-eth` feature it also reads the contract and sends
/// calls through an alloy provider.
///
/// ```
/// use phala_cloud::onchain::eth::{AppContract, Address, B256};
///
/// let app = AppContract::new(1, "0x09cef33ca9c6e4f2b1d5a7c3e8f0b2a4d6e8f1c3".parse::<Address>()?);
/// let calls = [
///     app.add_device(B256::repeat_byte(0x33)),
///     app.set_allow_any_device(false),
/// ];
/// assert!(calls.iter().all(|c| c.to == app.address() && c.chain_id == 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AppContract {
    chain_id: u64,
    address: Address,
}

impl AppContract {
    /// The contract at `address` (the app id) on chain `chain_id`.
    pub fn new(chain_id: u64, address: Address) -> Self {
        Self { chain_id, address }
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The contract's address: the app id.
    pub fn address(&self) -> Address {
        self.address
    }

    fn call<C: SolCall>(&self, call: C) -> Call {
        Call::new(self.chain_id, self.address, &call, true)
    }

    /// `addComposeHash(bytes32)`: allow a compose hash.
    pub fn add_compose_hash(&self, compose_hash: B256) -> Call {
        self.call(DstackApp::addComposeHashCall {
            composeHash: compose_hash,
        })
    }

    /// `removeComposeHash(bytes32)`: disallow a compose hash.
    pub fn remove_compose_hash(&self, compose_hash: B256) -> Call {
        self.call(DstackApp::removeComposeHashCall {
            composeHash: compose_hash,
        })
    }

    /// `addDevice(bytes32)`: allow a device.
    pub fn add_device(&self, device_id: B256) -> Call {
        self.call(DstackApp::addDeviceCall {
            deviceId: device_id,
        })
    }

    /// `removeDevice(bytes32)`: disallow a device.
    pub fn remove_device(&self, device_id: B256) -> Call {
        self.call(DstackApp::removeDeviceCall {
            deviceId: device_id,
        })
    }

    /// `setAllowAnyDevice(bool)`: whether any device may boot the app.
    pub fn set_allow_any_device(&self, allow_any: bool) -> Call {
        self.call(DstackApp::setAllowAnyDeviceCall {
            allowAny: allow_any,
        })
    }

    /// `setRequireTcbUpToDate(bool)`: whether the TCB must be up to date.
    pub fn set_require_tcb_up_to_date(&self, required: bool) -> Call {
        self.call(DstackApp::setRequireTcbUpToDateCall {
            requireUpToDate: required,
        })
    }

    /// `disableUpgrades()`: no upgrade of the contract, ever again.
    pub fn disable_upgrades(&self) -> Call {
        self.call(DstackApp::disableUpgradesCall {})
    }
}

/// A `DstackKms` contract: the KMS's trust anchor and the factory of app
/// contracts.
///
/// ```
/// use phala_cloud::onchain::eth::{KmsContract, BASE_CHAIN_ID};
///
/// let kms = KmsContract::deployed(BASE_CHAIN_ID).unwrap();
/// assert_eq!(kms.chain_id(), 8453);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KmsContract {
    chain_id: u64,
    address: Address,
}

impl KmsContract {
    /// The contract at `address` on chain `chain_id`.
    pub fn new(chain_id: u64, address: Address) -> Self {
        Self { chain_id, address }
    }

    /// The KMS contract Phala Cloud runs on `chain_id`
    /// ([`KMS_DEPLOYMENTS`](super::KMS_DEPLOYMENTS)), if any.
    pub fn deployed(chain_id: u64) -> Option<Self> {
        super::kms_deployment(chain_id).map(|d| Self::new(d.chain_id, d.kms))
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The contract's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// `deployAndRegisterApp(…)`: deploy an app contract. The 5-argument
    /// form, which every deployed KMS has (and the official SDK calls),
    /// unless `app` requires an up-to-date TCB: then the 6-argument form.
    ///
    /// ```
    /// use phala_cloud::onchain::eth::{Address, DeployApp, KmsContract, B256};
    ///
    /// let kms = KmsContract::deployed(8453).unwrap();
    /// let owner = Address::repeat_byte(0xab); // a Safe, say
    /// let plain = kms.deploy_and_register_app(&DeployApp::new(owner).compose_hash(B256::repeat_byte(1)));
    /// assert_eq!(plain.data[..4], [0x86, 0x18, 0x16, 0x9d]);
    /// let strict = kms.deploy_and_register_app(&DeployApp::new(owner).require_tcb_up_to_date(true));
    /// assert_eq!(strict.data[..4], [0x9c, 0xb9, 0xc3, 0x1f]);
    /// ```
    pub fn deploy_and_register_app(&self, app: &DeployApp) -> Call {
        if app.require_tcb_up_to_date {
            let call = DstackKms::deployAndRegisterApp_1Call {
                initialOwner: app.owner,
                disableUpgrades: app.disable_upgrades,
                requireTcbUpToDate: true,
                allowAnyDevice: app.allow_any_device,
                initialDeviceId: app.device_id,
                initialComposeHash: app.compose_hash,
            };
            Call::new(self.chain_id, self.address, &call, false)
        } else {
            let call = DstackKms::deployAndRegisterApp_0Call {
                initialOwner: app.owner,
                disableUpgrades: app.disable_upgrades,
                allowAnyDevice: app.allow_any_device,
                initialDeviceId: app.device_id,
                initialComposeHash: app.compose_hash,
            };
            Call::new(self.chain_id, self.address, &call, false)
        }
    }
}

/// The app contract `deployAndRegisterApp` creates: its owner and initial
/// policy. Defaults as the official SDK's: no device, no compose hash (32
/// zero bytes, which the contract skips), any device not allowed, upgrades
/// and an out-of-date TCB allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeployApp {
    owner: Address,
    disable_upgrades: bool,
    allow_any_device: bool,
    require_tcb_up_to_date: bool,
    device_id: B256,
    compose_hash: B256,
}

impl DeployApp {
    /// An app contract owned by `owner` (a key's address or a Safe).
    pub fn new(owner: Address) -> Self {
        Self {
            owner,
            disable_upgrades: false,
            allow_any_device: false,
            require_tcb_up_to_date: false,
            device_id: B256::ZERO,
            compose_hash: B256::ZERO,
        }
    }

    /// The owner.
    pub fn owner(&self) -> Address {
        self.owner
    }

    /// Disable upgrades of the contract from the start.
    #[must_use]
    pub fn disable_upgrades(mut self, disable: bool) -> Self {
        self.disable_upgrades = disable;
        self
    }

    /// Let any device boot the app.
    #[must_use]
    pub fn allow_any_device(mut self, allow: bool) -> Self {
        self.allow_any_device = allow;
        self
    }

    /// Require an up-to-date TCB to boot (the 6-argument factory call).
    #[must_use]
    pub fn require_tcb_up_to_date(mut self, required: bool) -> Self {
        self.require_tcb_up_to_date = required;
        self
    }

    /// The first allowed device.
    #[must_use]
    pub fn device_id(mut self, device_id: B256) -> Self {
        self.device_id = device_id;
        self
    }

    /// The first allowed compose hash.
    #[must_use]
    pub fn compose_hash(mut self, compose_hash: B256) -> Self {
        self.compose_hash = compose_hash;
        self
    }
}
