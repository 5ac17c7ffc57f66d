//! Reading the dstack contracts through any alloy [`Provider`]: views at the
//! latest block, and the boot prerequisites in one round trip.

use std::future::IntoFuture;
use std::time::Duration;

use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_provider::transport::{TransportError, TransportResult};
use alloy_provider::Provider;
use alloy_rpc_client::BatchRequest;
use alloy_rpc_types_eth::{BlockId, TransactionRequest};
use alloy_sol_types::SolCall;

use super::contracts::{DstackApp, DstackKms};
use super::{AppContract, EthError, KmsContract};

/// What an app's contract says about booting a compose hash on a device,
/// as the official SDK's `checkOnChainPrerequisites` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Prerequisites {
    /// `allowAnyDevice()`.
    pub allow_any_device: bool,
    /// `allowAnyDevice() || allowedDeviceIds(device)`.
    pub device_allowed: bool,
    /// `allowedComposeHashes(hash)`.
    pub compose_hash_allowed: bool,
}

impl Prerequisites {
    /// Both allowed: the KMS lets the CVM boot (TCB policy aside).
    pub fn is_allowed(&self) -> bool {
        self.device_allowed && self.compose_hash_allowed
    }
}

/// How long one JSON-RPC exchange may take (an `eth_call`, a batch of
/// them, sending a transaction with the provider's fillers); the receipt is
/// waited for separately ([`TxOptions`](super::TxOptions)).
pub const RPC_TIMEOUT: Duration = Duration::from_secs(30);

/// `call`'s answer within [`RPC_TIMEOUT`]; `during` names it in errors.
pub(crate) async fn rpc<T>(
    during: impl FnOnce() -> String,
    call: impl IntoFuture<Output = TransportResult<T>>,
) -> Result<T, EthError> {
    match tokio::time::timeout(RPC_TIMEOUT, call.into_future()).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(source)) => Err(EthError::Rpc {
            during: during(),
            source,
        }),
        Err(_) => Err(EthError::RpcTimeout {
            during: during(),
            after: RPC_TIMEOUT,
        }),
    }
}

/// An `eth_call` of `call` to `to` at the latest block.
fn request<C: SolCall>(to: Address, call: &C) -> TransactionRequest {
    TransactionRequest::default()
        .to(to)
        .input(Bytes::from(call.abi_encode()).into())
}

fn during<C: SolCall>() -> String {
    format!("eth_call {}", C::SIGNATURE)
}

fn decode<C: SolCall>(to: Address, answer: &[u8]) -> Result<C::Return, EthError> {
    if answer.is_empty() {
        return Err(EthError::NoContract {
            address: to,
            function: C::SIGNATURE,
        });
    }
    C::abi_decode_returns(answer).map_err(|source| EthError::Decode {
        address: to,
        function: C::SIGNATURE,
        source,
    })
}

/// Calls the view `call` of the contract at `to`.
pub(crate) async fn view<P: Provider, C: SolCall>(
    provider: &P,
    to: Address,
    call: C,
) -> Result<C::Return, EthError> {
    let answer = rpc(during::<C>, provider.call(request(to, &call)).latest()).await?;
    decode::<C>(to, &answer)
}

/// A boolean view whose refusal by the node (a revert, no such function)
/// counts as `false`, as in the official SDK; a transport failure is an
/// error.
fn flag<C: SolCall<Return = bool>>(
    to: Address,
    answer: TransportResult<Bytes>,
) -> Result<bool, EthError> {
    match answer {
        Ok(bytes) => Ok(decode::<C>(to, &bytes).unwrap_or(false)),
        Err(e) if e.is_error_resp() => Ok(false),
        Err(source) => Err(EthError::Rpc {
            during: during::<C>(),
            source,
        }),
    }
}

impl AppContract {
    /// `owner()`: the only account that may write.
    pub async fn owner<P: Provider>(&self, provider: &P) -> Result<Address, EthError> {
        view(provider, self.address(), DstackApp::ownerCall {}).await
    }

    /// `allowedComposeHashes(hash)`.
    pub async fn compose_hash_allowed<P: Provider>(
        &self,
        provider: &P,
        compose_hash: B256,
    ) -> Result<bool, EthError> {
        let call = DstackApp::allowedComposeHashesCall {
            composeHash: compose_hash,
        };
        view(provider, self.address(), call).await
    }

    /// `allowedDeviceIds(device)`: whether the device is on the list (see
    /// [`AppContract::device_allowed`] for whether it may boot).
    pub async fn device_listed<P: Provider>(
        &self,
        provider: &P,
        device_id: B256,
    ) -> Result<bool, EthError> {
        let call = DstackApp::allowedDeviceIdsCall {
            deviceId: device_id,
        };
        view(provider, self.address(), call).await
    }

    /// `allowAnyDevice() || allowedDeviceIds(device)`: whether the device
    /// may boot the app.
    pub async fn device_allowed<P: Provider>(
        &self,
        provider: &P,
        device_id: B256,
    ) -> Result<bool, EthError> {
        Ok(self.allow_any_device(provider).await?
            || self.device_listed(provider, device_id).await?)
    }

    /// `allowAnyDevice()`.
    pub async fn allow_any_device<P: Provider>(&self, provider: &P) -> Result<bool, EthError> {
        view(provider, self.address(), DstackApp::allowAnyDeviceCall {}).await
    }

    /// `requireTcbUpToDate()` (contracts from 2026 on).
    pub async fn require_tcb_up_to_date<P: Provider>(
        &self,
        provider: &P,
    ) -> Result<bool, EthError> {
        view(
            provider,
            self.address(),
            DstackApp::requireTcbUpToDateCall {},
        )
        .await
    }

    /// `version()`.
    pub async fn version<P: Provider>(&self, provider: &P) -> Result<U256, EthError> {
        view(provider, self.address(), DstackApp::versionCall {}).await
    }

    /// Whether the contract lets `compose_hash` boot on `device_id`:
    /// `allowAnyDevice()`, `allowedDeviceIds(device_id)` and
    /// `allowedComposeHashes(compose_hash)` in one JSON-RPC batch (one
    /// round trip; three calls if the node refuses batches). A call the
    /// node refuses counts as `false`, as in the official SDK.
    pub async fn check_prerequisites<P: Provider>(
        &self,
        provider: &P,
        device_id: B256,
        compose_hash: B256,
    ) -> Result<Prerequisites, EthError> {
        let to = self.address();
        let any = request(to, &DstackApp::allowAnyDeviceCall {});
        let device = request(
            to,
            &DstackApp::allowedDeviceIdsCall {
                deviceId: device_id,
            },
        );
        let hash = request(
            to,
            &DstackApp::allowedComposeHashesCall {
                composeHash: compose_hash,
            },
        );
        let batched = tokio::time::timeout(RPC_TIMEOUT, batch(provider, [&any, &device, &hash]));
        // A node that refuses batches may answer the batch as a whole, with
        // an error that alloy hands every call as a missing answer.
        let answered = |answer: &TransportResult<Bytes>| match answer {
            Ok(_) => true,
            Err(e) => e.is_error_resp(),
        };
        let answers = match in_time(batched.await)? {
            Ok(answers) if answers.iter().all(answered) => answers,
            _ => {
                let mut answers = Vec::with_capacity(3);
                for call in [any, device, hash] {
                    let single = provider.call(call).latest().into_future();
                    answers.push(in_time(tokio::time::timeout(RPC_TIMEOUT, single).await)?);
                }
                answers
            }
        };
        let mut answers = answers.into_iter();
        let mut next = || answers.next().unwrap_or(Err(TransportError::NullResp));
        let allow_any_device = flag::<DstackApp::allowAnyDeviceCall>(to, next())?;
        let listed = flag::<DstackApp::allowedDeviceIdsCall>(to, next())?;
        let compose_hash_allowed = flag::<DstackApp::allowedComposeHashesCall>(to, next())?;
        Ok(Prerequisites {
            allow_any_device,
            device_allowed: allow_any_device || listed,
            compose_hash_allowed,
        })
    }
}

/// `answer`, unless it came too late: the prerequisites' calls.
fn in_time<T>(answer: Result<T, tokio::time::error::Elapsed>) -> Result<T, EthError> {
    answer.map_err(|_| EthError::RpcTimeout {
        during: "eth_call of the prerequisites".into(),
        after: RPC_TIMEOUT,
    })
}

/// `eth_call`s at the latest block in one JSON-RPC batch: each call's
/// answer, or the batch's own failure.
async fn batch<P: Provider, const N: usize>(
    provider: &P,
    calls: [&TransactionRequest; N],
) -> TransportResult<Vec<TransportResult<Bytes>>> {
    let mut batch = BatchRequest::new(provider.client());
    let mut waiters = Vec::with_capacity(N);
    for call in calls {
        waiters.push(batch.add_call::<_, Bytes>("eth_call", &(call, BlockId::latest()))?);
    }
    batch.send().await?;
    let mut answers = Vec::with_capacity(N);
    for waiter in waiters {
        answers.push(waiter.await);
    }
    Ok(answers)
}

/// The KMS's keys and attestation, as `DstackKms.kmsInfo()` gives them.
pub type KmsInfo = DstackKms::kmsInfoReturn;

impl KmsContract {
    /// `kmsInfo()`: the KMS's root key (`k256Pubkey`, the anchor that
    /// env-encryption key signatures are checked against), CA key, quote
    /// and event log.
    pub async fn kms_info<P: Provider>(&self, provider: &P) -> Result<KmsInfo, EthError> {
        view(provider, self.address(), DstackKms::kmsInfoCall {}).await
    }

    /// `registeredApps(app)`: whether an app is registered with this KMS.
    pub async fn is_registered<P: Provider>(
        &self,
        provider: &P,
        app: Address,
    ) -> Result<bool, EthError> {
        view(
            provider,
            self.address(),
            DstackKms::registeredAppsCall { app },
        )
        .await
    }

    /// `appImplementation()`: what new app contracts point to.
    pub async fn app_implementation<P: Provider>(&self, provider: &P) -> Result<Address, EthError> {
        view(
            provider,
            self.address(),
            DstackKms::appImplementationCall {},
        )
        .await
    }
}
