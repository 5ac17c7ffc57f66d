//! One conformance case: the arguments for an operation, the request the
//! upstream spec says must arrive, and the answer the server gives; run
//! against httpmock, which records what it received.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use httpmock::prelude::*;
use httpmock::HttpMockResponse;
use phala_cloud::{Client, RetryPolicy};
use serde_json::{json, Map, Value};
use support::schema::validate;

use super::compare::equivalent;
use super::examples::{example, example_with_text, id_example, Mode, HEADER_TEXT};
use super::spec::{is_nullable, setter_name, union_branches, Operation, Spec};

pub const KEY: &str = "phak_conformance_key";

pub struct Case {
    /// `list_kms (Maximal)`: how failures name the case.
    pub label: String,
    /// The generated method.
    pub operation: String,
    /// The driver's arguments, keyed by setter.
    pub args: Value,
    pub request: Request,
    pub answer: Answer,
    /// Every generated value with the upstream schema it was generated
    /// from (what, schema, value), for the generator's self-check.
    pub generated: Vec<(String, Value, Value)>,
}

/// What must arrive.
pub struct Request {
    pub method: String,
    pub path: String,
    /// The `X-Phala-Version` the operation's types describe.
    pub version: &'static str,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// Header parameters that were not given and must not be sent.
    pub absent_headers: Vec<String>,
    pub body: Body,
}

pub enum Body {
    /// No body.
    None,
    /// This value, compared as its upstream schema (the second) says.
    Exactly(Value, Value),
    /// An optional body that was not given: nothing, or a valid body.
    Optional(Value),
}

/// What the server answers, and what the client must decode.
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    /// The bytes sent (`None`: no body).
    pub body: Option<Vec<u8>>,
    /// The schema to compare the decoded answer with.
    pub schema: Value,
    /// What the decoded answer must encode back to (`Null` for no body).
    pub expected: Value,
}

impl Case {
    /// The case for `op` in `mode`: minimal sends the required parameters
    /// and body only and answers the minimal body; maximal sends everything.
    pub fn new(spec: &Spec, op: &Operation<'_>, operation: &str, mode: Mode) -> Case {
        let doc = &spec.upstream;
        let maximal = mode == Mode::Maximal;
        let mut args = Map::new();
        // A versioned sibling's path carries its version: not part of the URL.
        let mut path = phala_cloud_codegen::additions::wire_path(op.path).to_string();
        let mut query = Vec::new();
        let mut headers = Vec::new();
        let mut absent_headers = Vec::new();
        let mut generated = Vec::new();
        for param in op.op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap_or_default();
            let location = param["in"].as_str().unwrap_or_default();
            let required = param["required"].as_bool().unwrap_or(false);
            if !(required || maximal) {
                if location == "header" {
                    absent_headers.push(name.to_ascii_lowercase());
                }
                continue;
            }
            let value = match location {
                "path" => path_value(op, name, maximal),
                "header" => example_with_text(doc, &param["schema"], mode, HEADER_TEXT),
                _ => example(doc, &param["schema"], mode),
            };
            if value.is_null() {
                continue;
            }
            generated.push((
                format!("parameter {name}"),
                param["schema"].clone(),
                value.clone(),
            ));
            match location {
                // The ID examples are URL-safe: the path holds them as they are.
                "path" => path = path.replace(&format!("{{{name}}}"), &text(&value)),
                "query" => match &value {
                    Value::Array(items) => {
                        query.extend(items.iter().map(|i| (name.to_string(), text(i))));
                    }
                    other => query.push((name.to_string(), text(other))),
                },
                "header" => headers.push((name.to_ascii_lowercase(), text(&value))),
                other => panic!("{}: parameters in {other} are not covered", op.name()),
            }
            args.insert(setter_name(name), value);
        }
        let body = match op.body() {
            None => Body::None,
            Some((schema, required)) if required || maximal => {
                let schema = non_null(doc, schema);
                let value = example(doc, &schema, mode);
                args.insert("body".into(), value.clone());
                generated.push(("body".into(), schema.clone(), value.clone()));
                Body::Exactly(value, schema)
            }
            Some((schema, _)) => Body::Optional(schema.clone()),
        };
        let answer = Answer::generated(spec, op, mode);
        if answer.body.is_some() {
            generated.push((
                "answer".into(),
                answer.schema.clone(),
                answer.expected.clone(),
            ));
        }
        Case {
            label: format!("{operation} ({mode:?})"),
            operation: operation.to_string(),
            args: Value::Object(args),
            request: Request {
                method: op.method.to_ascii_uppercase(),
                path,
                version: phala_cloud::__private::operation_version(operation)
                    .unwrap_or(phala_cloud::API_VERSION),
                query,
                headers,
                absent_headers,
                body,
            },
            answer,
            generated,
        }
    }
}

impl Answer {
    /// The operation's success status with a body generated from its
    /// success schema (pinned version). An answer the spec also allows as
    /// `application/octet-stream` (`get_raw_attestation`) is given as its
    /// JSON alternative: the generated client only reads JSON.
    pub fn generated(spec: &Spec, op: &Operation<'_>, mode: Mode) -> Answer {
        let (status, schema) = op.success();
        match schema {
            // A HEAD answer has no body, whatever the spec's content says.
            Some(schema) if op.method != "head" => {
                let body = example(&spec.upstream, schema, mode);
                Answer::json(status, schema.clone(), body)
            }
            _ => Answer {
                status,
                content_type: "application/json",
                body: None,
                schema: json!({}),
                expected: Value::Null,
            },
        }
    }

    /// `body` as JSON, decoded into what it is.
    pub fn json(status: u16, schema: Value, body: Value) -> Answer {
        Answer {
            status,
            content_type: "application/json",
            body: Some(serde_json::to_vec(&body).expect("JSON encodes")),
            schema,
            expected: body,
        }
    }
}

/// The value of a path parameter: an example of the ID format the
/// normalizer gives it (what the setter takes).
fn path_value(op: &Operation<'_>, name: &str, maximal: bool) -> Value {
    let format = op
        .normalized
        .and_then(|n| n["parameters"].as_array())
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name && p["in"] == "path")
        .and_then(|p| p["schema"]["format"].as_str())
        .unwrap_or_else(|| panic!("{}: path parameter {name} has no ID format", op.name()));
    let id = id_example(format, maximal)
        .unwrap_or_else(|| panic!("{}: no example for the ID format {format}", op.name()));
    Value::from(id)
}

/// A body schema without its `null` alternative: a body is either sent or not.
fn non_null(doc: &Value, schema: &Value) -> Value {
    if is_nullable(doc, schema)
        && let Some(branches) = union_branches(doc, schema)
        && let [only] = branches.as_slice()
    {
        return (*only).clone();
    }
    schema.clone()
}

/// A parameter value as it reads in a URL or a header.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One httpmock server for many cases at once: each case gets a path prefix
/// of its own (the client's base URL ends with it), so cases run
/// concurrently without a server each. (Starting and dropping many
/// httpmock servers concurrently can deadlock in httpmock's server pool.)
pub struct Server {
    mock: MockServer,
    next: AtomicUsize,
}

impl Server {
    pub async fn start() -> Server {
        Server {
            mock: MockServer::start_async().await,
            next: AtomicUsize::new(0),
        }
    }

    /// Runs `case`; `Err` lists everything that differs.
    pub async fn run(&self, case: &Case) -> Result<(), String> {
        let (mut problems, result) = self.exchange(case).await;
        match result {
            Ok(decoded) => {
                if let Err(e) = equivalent(
                    &Spec::get().upstream,
                    &case.answer.schema,
                    &case.answer.expected,
                    &decoded,
                ) {
                    problems.push(format!("the decoded answer differs: {e}"));
                }
            }
            Err(e) => problems.push(format!("the call failed: {e}")),
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("{}:\n    {}", case.label, problems.join("\n    ")))
        }
    }

    /// Sends `case` and gives its answer: what differs in the request that
    /// arrived, and what the client returned.
    pub async fn exchange(&self, case: &Case) -> (Vec<String>, Result<Value, phala_cloud::Error>) {
        let prefix = format!("/case-{}", self.next.fetch_add(1, Ordering::Relaxed));
        let received = Arc::new(Mutex::new(Vec::new()));
        let recorder = received.clone();
        let (status, content_type, body) = (
            case.answer.status,
            case.answer.content_type,
            case.answer.body.clone(),
        );
        self.mock
            .mock_async(|when, then| {
                when.path_prefix(format!("{prefix}/"));
                then.respond_with(move |request: &HttpMockRequest| {
                    recorder.lock().unwrap().push(request.clone());
                    let response = HttpMockResponse::builder().status(status);
                    match &body {
                        Some(body) => response
                            .header("content-type", content_type)
                            .body(body.clone())
                            .build(),
                        None => response.build(),
                    }
                });
            })
            .await;
        let client = Client::builder()
            .api_key(KEY)
            .base_url(format!("{}{prefix}", self.mock.base_url()))
            .retry_policy(RetryPolicy::none())
            .build()
            .expect("client");
        let result = crate::call(&client, &case.operation, &case.args).await;
        let received = received.lock().unwrap().clone();
        let problems = match received.as_slice() {
            [request] => check_request(&Spec::get().upstream, &case.request, &prefix, request),
            other => vec![format!("{} requests arrived, not one", other.len())],
        };
        (problems, result)
    }
}

fn check_request(
    doc: &Value,
    expected: &Request,
    prefix: &str,
    got: &HttpMockRequest,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut differ = |what: &str, want: String, have: String| {
        if want != have {
            problems.push(format!("{what}: expected {want}, received {have}"));
        }
    };
    differ(
        "method",
        expected.method.clone(),
        got.method_str().to_string(),
    );
    let path = got.uri().path().to_string();
    let path = path.strip_prefix(prefix).unwrap_or(&path).to_string();
    differ("path", expected.path.clone(), path);
    let mut want_query = expected.query.clone();
    let mut have_query = got.query_params();
    want_query.sort();
    have_query.sort();
    differ(
        "query",
        format!("{want_query:?}"),
        format!("{have_query:?}"),
    );
    let headers = got.headers_vec();
    let values = |name: &str| -> Vec<String> {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let sends_body = !matches!(expected.body, Body::None) && !got.body_ref().is_empty();
    let mut want_headers: Vec<(String, String)> = vec![
        ("x-api-key".into(), KEY.into()),
        ("x-phala-version".into(), expected.version.into()),
        (
            "user-agent".into(),
            concat!("phala-cloud-rust/", env!("CARGO_PKG_VERSION")).into(),
        ),
    ];
    if sends_body {
        want_headers.push(("content-type".into(), "application/json".into()));
    }
    want_headers.extend(expected.headers.iter().cloned());
    for (name, value) in &want_headers {
        differ(
            &format!("header {name}"),
            format!("{:?}", [value]),
            format!("{:?}", values(name)),
        );
    }
    for name in expected
        .absent_headers
        .iter()
        .map(String::as_str)
        .chain(["api-version"])
    {
        differ(
            &format!("header {name}"),
            "[]".into(),
            format!("{:?}", values(name)),
        );
    }
    let raw = got.body_ref();
    let body: Result<Value, String> = serde_json::from_slice(raw).map_err(|e| {
        format!(
            "the body is not JSON ({e}): {}",
            String::from_utf8_lossy(raw)
        )
    });
    match (&expected.body, body) {
        (Body::None, _) if raw.is_empty() => {}
        (Body::None, _) => problems.push(format!(
            "a body was sent where the spec has none: {}",
            String::from_utf8_lossy(raw)
        )),
        (Body::Optional(_), _) if raw.is_empty() => {}
        (Body::Optional(schema), Ok(body)) => {
            if let Err(e) = validate(doc, schema, &body) {
                problems.push(format!(
                    "the body sent by default is not valid upstream {e}: {body}"
                ));
            }
        }
        (Body::Exactly(want, schema), Ok(body)) => {
            if let Err(e) = equivalent(doc, schema, want, &body) {
                problems.push(format!("the body differs {e}"));
            }
            if let Err(e) = validate(doc, schema, &body) {
                problems.push(format!("the body is not valid upstream {e}"));
            }
        }
        (_, Err(e)) => problems.push(e),
    }
    problems
}
