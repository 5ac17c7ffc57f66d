//! Which key a deployment's env vars are encrypted to, found from the KMS
//! whatever its kind, and verified before use.

use futures::TryStreamExt;

use super::DeployError;
use crate::env_encryption::{EncryptedEnv, EnvEncryptPublicKey, EnvVar, KeyVerification};
use crate::ids::{AppId, KmsRef};
use crate::kms_trust::KmsTrust;
use crate::types::{CvmInfoDetail, KmsType, ProvisionCvmResponse};
use crate::{Client, Error};

/// The reference the API takes for Phala's off-chain KMS.
const PHALA_KMS: &str = "phala";

/// Whether the key's KMS signature is checked, and against what.
#[derive(Debug, Clone)]
pub(crate) enum KeyCheck {
    Verify(KmsTrust),
    Skip,
}

impl Default for KeyCheck {
    fn default() -> Self {
        Self::Verify(KmsTrust::default())
    }
}

/// The env vars encrypted to the app's verified key, and what was
/// verified; `None` when there are none (no key is fetched then).
pub(crate) async fn encrypt(
    client: &Client,
    kms: KmsRef,
    app: AppId,
    check: &KeyCheck,
    vars: &[EnvVar],
    provisioned: Option<&str>,
) -> Result<Option<(EncryptedEnv, KeyVerification)>, Error> {
    if vars.is_empty() {
        return Ok(None);
    }
    let request = client.app_env_encrypt_key(kms, app);
    let key = match check {
        KeyCheck::Verify(trust) => request.trust(trust.clone()),
        KeyCheck::Skip => request.skip_key_verification(),
    }
    .send()
    .await?;
    // The provision answer's key is unsigned: it is only compared.
    if let Some(provisioned) = provisioned {
        let same = provisioned
            .parse::<EnvEncryptPublicKey>()
            .is_ok_and(|p| p == key.public_key);
        if !same {
            return Err(DeployError::KeyMismatch {
                provisioned: provisioned.to_string(),
                signed: key.public_key.to_string(),
            }
            .into());
        }
    }
    let encrypted = key
        .public_key
        .encrypt(vars)
        .map_err(|e| Error::InvalidRequest(format!("cannot encrypt the environment: {e}")))?;
    Ok(Some((encrypted, key.verification)))
}

/// The KMS a provision answer names: its id, else Phala's.
pub(crate) fn provisioned_kms(answer: &ProvisionCvmResponse) -> Result<KmsRef, Error> {
    if let Some(kms) = &answer.kms_info {
        return Ok(KmsRef::from(&kms.id));
    }
    parse_kms(answer.kms_id.as_deref().unwrap_or(PHALA_KMS))
}

/// The KMS an existing CVM's keys come from: Phala's for an off-chain
/// CVM, else the KMS of the CVM's chain and contract, looked up in
/// `list_kms` (the CVM names only the contract).
pub(crate) async fn cvm_kms(client: &Client, cvm: &CvmInfoDetail) -> Result<KmsRef, Error> {
    let info = cvm.kms_info.as_ref();
    let chain = info.and_then(|kms| kms.chain_id);
    let on_chain =
        chain.is_some() || matches!(cvm.kms_type, Some(KmsType::Base) | Some(KmsType::Ethereum));
    if !on_chain {
        return parse_kms(PHALA_KMS);
    }
    let contract = info.and_then(|kms| kms.dstack_kms_address.as_deref());
    let (Some(chain), Some(contract)) = (chain, contract) else {
        return Err(DeployError::Incomplete(format!(
            "CVM {} is on an on-chain KMS but names no chain and KMS contract",
            cvm.id
        ))
        .into());
    };
    let mut all = std::pin::pin!(client.list_kms().items());
    while let Some(kms) = all.try_next().await? {
        let same_contract = kms
            .kms_contract_address
            .as_deref()
            .is_some_and(|address| address.eq_ignore_ascii_case(contract));
        if kms.chain_id == Some(chain) && same_contract {
            return Ok(KmsRef::from(&kms.id));
        }
    }
    Err(DeployError::Incomplete(format!(
        "no KMS in list_kms has the contract {contract} on chain {chain}, which CVM {} uses",
        cvm.id
    ))
    .into())
}

fn parse_kms(value: &str) -> Result<KmsRef, Error> {
    crate::ids::param("kms_id", value).map_err(|e| DeployError::Incomplete(e).into())
}
