//! The dstack contracts' interfaces, as `sol!` bindings, and where the KMS
//! contracts are deployed.
//!
//! Function, event and error signatures are those of dstack's
//! `kms/auth-eth/contracts` (`DstackApp.sol`, `DstackKms.sol`); the tests
//! check every selector and topic against values computed independently.

use alloy_primitives::{address, Address};

alloy_sol_types::sol! {
    /// `DstackApp`: one per app, at the app id's address (a UUPS proxy,
    /// `Ownable2Step`). The KMS lets a CVM boot only if the app's contract
    /// allows its compose hash and, unless `allowAnyDevice`, its device.
    /// Every write is `onlyOwner`.
    #[derive(Debug, PartialEq, Eq)]
    interface DstackApp {
        /// Allows a compose hash.
        function addComposeHash(bytes32 composeHash) external;
        /// Disallows a compose hash.
        function removeComposeHash(bytes32 composeHash) external;
        /// Allows a device.
        function addDevice(bytes32 deviceId) external;
        /// Disallows a device.
        function removeDevice(bytes32 deviceId) external;
        /// Whether any device may boot the app.
        function setAllowAnyDevice(bool allowAny) external;
        /// Whether the TCB status must be `UpToDate` to boot.
        function setRequireTcbUpToDate(bool requireUpToDate) external;
        /// Disables upgrades of the contract, for good.
        function disableUpgrades() external;

        /// Whether a compose hash is allowed.
        function allowedComposeHashes(bytes32 composeHash) external view returns (bool allowed);
        /// Whether a device is on the list (see also `allowAnyDevice`).
        function allowedDeviceIds(bytes32 deviceId) external view returns (bool allowed);
        /// Whether any device may boot the app.
        function allowAnyDevice() external view returns (bool allowAny);
        /// Whether the TCB status must be `UpToDate` to boot.
        function requireTcbUpToDate() external view returns (bool required);
        /// The owner: the only account that may write.
        function owner() external view returns (address account);
        /// The contract's version.
        function version() external view returns (uint256 number);

        /// A compose hash was allowed.
        event ComposeHashAdded(bytes32 composeHash);
        /// A compose hash was disallowed.
        event ComposeHashRemoved(bytes32 composeHash);
        /// A device was allowed.
        event DeviceAdded(bytes32 deviceId);
        /// A device was disallowed.
        event DeviceRemoved(bytes32 deviceId);
        /// `allowAnyDevice` was set.
        event AllowAnyDeviceSet(bool allowAny);
        /// `requireTcbUpToDate` was set.
        event RequireTcbUpToDateSet(bool requireUpToDate);
        /// Upgrades were disabled.
        event UpgradesDisabled();
        /// Any policy change; `policy` is the keccak-256 of its name
        /// (`compose-hash`, `device`, `allow-any-device`, …).
        event PolicyChanged(address indexed actor, bytes32 indexed policy, bytes32 indexed value, bool enabled);

        /// The sender is not the owner.
        error OwnableUnauthorizedAccount(address account);
        /// The new owner is not valid.
        error OwnableInvalidOwner(address owner);
    }

    /// `DstackKms`: the KMS's contract, and the factory of app contracts.
    #[derive(Debug, PartialEq, Eq)]
    interface DstackKms {
        /// Deploys and registers a `DstackApp` whose `requireTcbUpToDate`
        /// is false; the form every deployed KMS has.
        function deployAndRegisterApp(address initialOwner, bool disableUpgrades, bool allowAnyDevice, bytes32 initialDeviceId, bytes32 initialComposeHash) external returns (address appId);
        /// Deploys and registers a `DstackApp`, `requireTcbUpToDate` included.
        function deployAndRegisterApp(address initialOwner, bool disableUpgrades, bool requireTcbUpToDate, bool allowAnyDevice, bytes32 initialDeviceId, bytes32 initialComposeHash) external returns (address appId);

        /// The KMS's keys and attestation: `k256Pubkey` is the root key
        /// that signs env-encryption public keys.
        function kmsInfo() external view returns (bytes k256Pubkey, bytes caPubkey, bytes quote, bytes eventlog);
        /// Whether an app is registered with this KMS.
        function registeredApps(address app) external view returns (bool registered);
        /// The implementation new app contracts point to.
        function appImplementation() external view returns (address implementation);

        /// An app contract was deployed by `deployAndRegisterApp`.
        event AppDeployedViaFactory(address indexed appId, address indexed deployer);
        /// An app was registered.
        event AppRegistered(address appId);
    }
}

/// A KMS contract Phala Cloud runs, on a public chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KmsDeployment {
    /// The chain's name, as the API's KMS slug (`ethereum`, `base`).
    pub name: &'static str,
    /// The EVM chain id.
    pub chain_id: u64,
    /// The `DstackKms` contract: the factory of app contracts.
    pub kms: Address,
}

/// Chain id of Ethereum mainnet.
pub const ETHEREUM_CHAIN_ID: u64 = 1;
/// Chain id of Base.
pub const BASE_CHAIN_ID: u64 = 8453;

/// The KMS contracts Phala Cloud runs on chain, by chain.
pub const KMS_DEPLOYMENTS: [KmsDeployment; 2] = [
    KmsDeployment {
        name: "ethereum",
        chain_id: ETHEREUM_CHAIN_ID,
        kms: address!("d343a3f5593b93D8056aB5D60c433622d7D65a80"),
    },
    KmsDeployment {
        name: "base",
        chain_id: BASE_CHAIN_ID,
        kms: address!("2f83172A49584C017F2B256F0FB2Dca14126Ba9C"),
    },
];

/// The KMS contract Phala Cloud runs on `chain_id`, if any.
///
/// ```
/// use phala_cloud::onchain::eth::{kms_deployment, BASE_CHAIN_ID};
///
/// let base = kms_deployment(BASE_CHAIN_ID).unwrap();
/// assert_eq!(base.kms.to_string(), "0x2f83172A49584C017F2B256F0FB2Dca14126Ba9C");
/// assert!(kms_deployment(31337).is_none());
/// ```
pub fn kms_deployment(chain_id: u64) -> Option<KmsDeployment> {
    KMS_DEPLOYMENTS.into_iter().find(|d| d.chain_id == chain_id)
}
