//! A fake EVM node on 127.0.0.1 for the `onchain::eth` tests: JSON-RPC over
//! HTTP (single requests and batches), one `DstackApp` and one `DstackKms`
//! contract whose state the tests set and read, and signed raw
//! transactions decoded and applied as the contracts would (owner only).
//!
//! The contracts' answers are ABI words written out by hand here, and
//! calldata is read by its selector bytes, so that the fake does not lean
//! on the bindings under test.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use phala_cloud::onchain::eth::alloy_provider::network::eip2718::Decodable2718;
use phala_cloud::onchain::eth::alloy_provider::network::{Ethereum, Network};
use phala_cloud::onchain::eth::{Address, B256};
use serde_json::{json, Value};

use support::{json_keep_alive, RoutedServer};

pub type Envelope = <Ethereum as Network>::TxEnvelope;

/// The key the tests sign with (anvil's first account) and its address.
pub const KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub const KEY_ADDRESS: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

pub const ADD_COMPOSE_HASH: [u8; 4] = [0xdf, 0xc7, 0x72, 0x23];
pub const ADD_DEVICE: [u8; 4] = [0x2a, 0x81, 0x97, 0x28];
pub const DEPLOY_5: [u8; 4] = [0x86, 0x18, 0x16, 0x9d];
const APP_DEPLOYED_VIA_FACTORY: &str =
    "0xfd86d7f6962eba3b7a3bf9129c06c0b2f885e1c61ef2c9f0dbb856be0deefdee";

/// A signed transaction the node received.
#[derive(Debug, Clone)]
pub struct Sent {
    pub raw: Vec<u8>,
    pub envelope: Envelope,
    pub sender: Address,
}

impl Sent {
    pub fn input(&self) -> &[u8] {
        &self.envelope.as_eip1559().expect("EIP-1559").tx().input
    }
}

/// What the node knows and what it saw.
#[derive(Debug)]
pub struct State {
    pub chain_id: u64,
    pub app: Address,
    pub owner: Address,
    pub kms: Address,
    pub compose_hashes: HashSet<B256>,
    pub devices: HashSet<B256>,
    pub allow_any_device: bool,
    /// Mined transactions revert.
    pub revert: bool,
    /// No receipt is ever available.
    pub withhold_receipts: bool,
    /// Batch requests get one error object, as some public endpoints answer.
    pub refuse_batches: bool,
    /// How many `allowedComposeHashes` reads still answer from before a
    /// mined registration (a lagging node behind a load balancer).
    pub lag: usize,
    /// The address `deployAndRegisterApp` deploys to.
    pub next_app: Address,
    /// `kmsInfo()`'s ABI-encoded answer.
    pub kms_info: Vec<u8>,
    /// Every JSON-RPC method called, in order.
    pub methods: Vec<String>,
    /// The size of every batch request.
    pub batches: Vec<usize>,
    pub sent: Vec<Sent>,
    unapplied: Vec<(bool, B256)>,
    receipts: HashMap<B256, Value>,
}

pub struct FakeChain {
    pub url: String,
    pub state: Arc<Mutex<State>>,
    _server: RoutedServer,
}

impl FakeChain {
    pub async fn start(chain_id: u64) -> Self {
        let state = Arc::new(Mutex::new(State {
            chain_id,
            app: Address::repeat_byte(0xa0),
            owner: KEY_ADDRESS.parse().unwrap(),
            kms: Address::repeat_byte(0xc0),
            compose_hashes: HashSet::new(),
            devices: HashSet::new(),
            allow_any_device: false,
            revert: false,
            withhold_receipts: false,
            refuse_batches: false,
            lag: 0,
            next_app: Address::repeat_byte(0xa1),
            kms_info: Vec::new(),
            methods: Vec::new(),
            batches: Vec::new(),
            sent: Vec::new(),
            unapplied: Vec::new(),
            receipts: HashMap::new(),
        }));
        let shared = state.clone();
        let server = RoutedServer::start(move |request, _log| {
            let state = shared.clone();
            async move {
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                let answer = match body {
                    Value::Array(requests) => {
                        let refused = {
                            let mut state = state.lock().unwrap();
                            state.batches.push(requests.len());
                            state.refuse_batches
                        };
                        match refused {
                            true => json!({"jsonrpc": "2.0", "id": null,
                                "error": {"code": -32600, "message": "batch requests are not supported"}}),
                            false => {
                                Value::Array(requests.iter().map(|r| answer(&state, r)).collect())
                            }
                        }
                    }
                    single => answer(&state, &single),
                };
                json_keep_alive(200, &answer.to_string())
            }
        })
        .await;
        Self {
            url: server.url.clone(),
            state,
            _server: server,
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    pub fn methods(&self) -> Vec<String> {
        self.with(|s| s.methods.clone())
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.with(|s| s.sent.clone())
    }
}

fn answer(state: &Mutex<State>, request: &Value) -> Value {
    let id = request["id"].clone();
    let method = request["method"].as_str().unwrap_or_default().to_string();
    let mut state = state.lock().unwrap();
    state.methods.push(method.clone());
    match state.answer(&method, &request["params"]) {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(message) => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": 3, "message": message}})
        }
    }
}

fn quantity(n: u64) -> Value {
    json!(format!("{n:#x}"))
}

fn word(bytes: &[u8]) -> String {
    format!("0x{:0>64}", hex::encode(bytes))
}

fn hex_bytes(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().unwrap_or_default().trim_start_matches("0x")).unwrap()
}

fn arg(input: &[u8]) -> B256 {
    B256::from_slice(&input[4..36])
}

impl State {
    fn answer(&mut self, method: &str, params: &Value) -> Result<Value, String> {
        Ok(match method {
            "eth_chainId" => quantity(self.chain_id),
            "eth_blockNumber" => quantity(0x11),
            "eth_getTransactionCount" => quantity(self.sent.len() as u64),
            "eth_estimateGas" => quantity(100_000),
            "eth_gasPrice" | "eth_maxPriorityFeePerGas" => quantity(1_000_000_000),
            "eth_feeHistory" => json!({
                "oldestBlock": "0x8",
                "baseFeePerGas": vec!["0x3b9aca00"; 11],
                "gasUsedRatio": vec![0.5; 10],
                "reward": vec![vec!["0x3b9aca00"]; 10],
            }),
            "eth_getCode" => {
                let address: Address = serde_json::from_value(params[0].clone()).unwrap();
                json!(if [self.app, self.kms].contains(&address) {
                    "0x6080"
                } else {
                    "0x"
                })
            }
            "eth_call" => self.call(&params[0])?,
            "eth_sendRawTransaction" => self.receive(&hex_bytes(&params[0]))?,
            "eth_getTransactionReceipt" => {
                let hash: B256 = serde_json::from_value(params[0].clone()).unwrap();
                match self.withhold_receipts {
                    true => Value::Null,
                    false => self.receipts.get(&hash).cloned().unwrap_or(Value::Null),
                }
            }
            "eth_getBlockByNumber" => Value::Null,
            other => return Err(format!("the fake node has no {other}")),
        })
    }

    fn call(&mut self, call: &Value) -> Result<Value, String> {
        let to: Address = serde_json::from_value(call["to"].clone()).unwrap();
        let input = hex_bytes(if call["input"].is_null() {
            &call["data"]
        } else {
            &call["input"]
        });
        let flag = |b: bool| json!(word(&[u8::from(b)]));
        if to == self.kms {
            return Ok(match input[..4] {
                [0x09, 0x17, 0x70, 0x63] => json!(format!("0x{}", hex::encode(&self.kms_info))),
                [0xa6, 0xc4, 0xcc, 0xe9] => flag(input[16..36] == self.app[..]),
                [0x25, 0xa9, 0x92, 0xda] => json!(word(&[0xee; 20])),
                _ => return Err("execution reverted".into()),
            });
        }
        if to != self.app {
            return Ok(json!("0x"));
        }
        Ok(match input[..4] {
            [0x8d, 0xa5, 0xcb, 0x5b] => json!(word(self.owner.as_slice())),
            [0x2f, 0x66, 0x22, 0xe5] => {
                if !self.unapplied.is_empty() {
                    match self.lag {
                        0 => self.apply(),
                        _ => self.lag -= 1,
                    }
                }
                flag(self.compose_hashes.contains(&arg(&input)))
            }
            [0xbf, 0x8b, 0x21, 0x1b] => flag(self.devices.contains(&arg(&input))),
            [0x34, 0x40, 0xa1, 0x6a] => flag(self.allow_any_device),
            [0x0a, 0xa5, 0x8c, 0x83] => flag(true),
            [0x54, 0xfd, 0x4d, 0x50] => json!(word(&[2])),
            _ => return Err("execution reverted".into()),
        })
    }

    fn apply(&mut self) {
        for (is_device, value) in std::mem::take(&mut self.unapplied) {
            match is_device {
                true => self.devices.insert(value),
                false => self.compose_hashes.insert(value),
            };
        }
    }

    /// `eth_sendRawTransaction`: decodes, recovers the signer, mines.
    fn receive(&mut self, raw: &[u8]) -> Result<Value, String> {
        let envelope = Envelope::decode_2718(&mut &raw[..]).map_err(|e| e.to_string())?;
        let signed = envelope.as_eip1559().ok_or("not an EIP-1559 transaction")?;
        let sender = signed
            .signature()
            .recover_address_from_prehash(&signed.signature_hash())
            .map_err(|e| e.to_string())?;
        let tx = signed.tx();
        let to = *tx.to.to().ok_or("a contract creation")?;
        let hash = *envelope.tx_hash();
        let input = tx.input.to_vec();
        let mut logs = Vec::new();
        let mut success = !self.revert;
        if to == self.app {
            success &= sender == self.owner;
            match input[..4] {
                [0xdf, 0xc7, 0x72, 0x23] if success => self.unapplied.push((false, arg(&input))),
                [0x2a, 0x81, 0x97, 0x28] if success => self.unapplied.push((true, arg(&input))),
                _ => {}
            }
        } else if to == self.kms && input[..4] == DEPLOY_5 && success {
            logs.push(json!({
                "address": self.kms,
                "topics": [APP_DEPLOYED_VIA_FACTORY, word(self.next_app.as_slice()), word(sender.as_slice())],
                "data": "0x",
                "blockHash": word(&[0xb1; 32]),
                "blockNumber": "0x11",
                "transactionHash": hash,
                "transactionIndex": "0x0",
                "logIndex": "0x0",
                "removed": false,
            }));
        }
        self.receipts.insert(
            hash,
            json!({
                "type": "0x2",
                "status": if success { "0x1" } else { "0x0" },
                "cumulativeGasUsed": "0x5208",
                "logs": logs,
                "logsBloom": format!("0x{}", "0".repeat(512)),
                "transactionHash": hash,
                "transactionIndex": "0x0",
                "blockHash": word(&[0xb1; 32]),
                "blockNumber": "0x11",
                "gasUsed": "0x5208",
                "effectiveGasPrice": "0x3b9aca00",
                "from": sender,
                "to": to,
                "contractAddress": null,
            }),
        );
        self.sent.push(Sent {
            raw: raw.to_vec(),
            envelope: envelope.clone(),
            sender,
        });
        Ok(json!(hash))
    }
}
