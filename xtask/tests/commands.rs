//! `update-spec` and `normalized-spec` end to end, against servers on
//! 127.0.0.1 and the two real revisions of the spec. The vendored spec is
//! always a copy in a temporary directory, never the workspace's.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use httpmock::MockServer;
use phala_cloud_codegen::additions::ADDITIONS_FILE;
use phala_cloud_codegen::overlay::{Overlay, OVERLAY_FILE};
use serde_json::Value;
use xtask::cli::{run, DIFFERS, FAILURE, SUCCESS};
use xtask::fetch::Source;
use xtask::update::{Outcome, UpdateError, UpdateSpec};

const OLD: &str = "openapi.2026-03-25.json";
const CURRENT: &str = "openapi.2026-04-18.json";

/// The workspace's overlay, which every vendored copy has beside it.
fn workspace_overlay() -> Vec<u8> {
    workspace_file(OVERLAY_FILE)
}

/// A file of the workspace, beside its `openapi.json`.
fn workspace_file(name: &str) -> Vec<u8> {
    fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// A temporary directory holding a vendored `openapi.json`.
struct Vendored {
    dir: PathBuf,
    spec: PathBuf,
    bytes: Vec<u8>,
    modified: SystemTime,
}

impl Vendored {
    fn new(test: &str, bytes: Vec<u8>) -> Self {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("commands-{test}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let spec = dir.join("openapi.json");
        fs::write(&spec, &bytes).unwrap();
        fs::write(dir.join(OVERLAY_FILE), workspace_overlay()).unwrap();
        fs::write(dir.join(ADDITIONS_FILE), workspace_file(ADDITIONS_FILE)).unwrap();
        let modified = fs::metadata(&spec).unwrap().modified().unwrap();
        Self {
            dir,
            spec,
            bytes,
            modified,
        }
    }

    fn path(&self) -> String {
        self.spec.display().to_string()
    }

    /// Same bytes, same mtime, and nothing else in the directory but what the test wrote.
    fn assert_untouched(&self) {
        assert_eq!(
            fs::read(&self.spec).unwrap(),
            self.bytes,
            "the vendored spec changed"
        );
        assert_eq!(
            fs::metadata(&self.spec).unwrap().modified().unwrap(),
            self.modified
        );
        assert_no_temporary_files(&self.dir);
    }
}

impl Drop for Vendored {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn assert_no_temporary_files(dir: &Path) {
    let names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

/// A server answering `GET /openapi.json` with `status`, `content_type` and `body`.
fn serve(status: u16, content_type: &str, body: &[u8]) -> (MockServer, String) {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method("GET").path("/openapi.json");
        then.status(status)
            .header("content-type", content_type)
            .body(body);
    });
    let url = server.url("/openapi.json");
    (server, url)
}

fn cli(args: &[&str]) -> (u8, String, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(&args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn binary(args: &[&str]) -> (u8, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap() as u8,
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn updating_from_the_2026_03_25_revision_reports_94_removed_and_23_added_operations() {
    let vendored = Vendored::new("old-to-current", fixture(OLD));
    let (_server, url) = serve(200, "application/json", &fixture(CURRENT));
    let mut update = UpdateSpec::new(&vendored.spec);
    update.source = Source::Url(url);

    let Outcome::Differs {
        report,
        accepted,
        written,
    } = update.run().unwrap()
    else {
        panic!("the revisions differ");
    };

    assert_eq!(report.operations_removed.len(), 94);
    assert_eq!(report.operations_added.len(), 23);
    let webhooks: Vec<String> = report
        .operations_added
        .iter()
        .filter(|o| o.path.starts_with("/api/v1/workspace/webhooks"))
        .map(|o| o.to_string())
        .collect();
    assert_eq!(webhooks.len(), 11, "{webhooks:?}");
    assert!(webhooks.contains(&"POST /api/v1/workspace/webhooks".to_string()));
    assert!(report
        .operations_removed
        .iter()
        .any(|o| o.to_string() == "GET /api/v1/auth/me"));
    assert!(report
        .new_hashid_kinds
        .contains(&("pm".into(), "cvm_port_mappings".into())));
    assert!(report.breaking() >= 94);
    assert!(written);
    assert_eq!(
        accepted.operations,
        102 + 19,
        "the spec's and the added ones"
    );
    assert_eq!(accepted.added, 19);
    assert_eq!(
        accepted.additions,
        [],
        "the current spec describes none of the additions"
    );
    assert_eq!(
        accepted.hand_written, 1,
        "the watch, beside the state it streams"
    );
    assert_eq!(fs::read(&vendored.spec).unwrap(), fixture(CURRENT));
    assert_no_temporary_files(&vendored.dir);
}

/// Back to the previous real revision: it generates (its form bodies, its
/// multipart uploads, its file export), so `--check` reports and exits 1;
/// the overlay's actions about operations and schemas it lacks are listed,
/// not refused.
#[test]
fn checking_the_2026_03_25_revision_against_the_current_one_reports_and_exits_1() {
    let vendored = Vendored::new("current-to-old", fixture(CURRENT));
    let candidate = vendored.dir.join("old.json");
    fs::write(&candidate, fixture(OLD)).unwrap();

    let (code, out, err) = cli(&[
        "update-spec",
        "--from",
        &candidate.display().to_string(),
        "--spec",
        &vendored.path(),
        "--check",
    ]);

    assert_eq!(code, DIFFERS, "{err}");
    assert!(err.is_empty(), "no refusal: {err}");
    assert!(out.contains("  operations: 23 removed, 94 added"), "{out}");
    assert!(out.contains("New paginated operations (8)"), "{out}");
    assert!(
        out.contains("  + `GET /api/v1/credits/transactions` (`handle_list_transactions_api_v1_credits_transactions_get`): `page` / `page_size`"),
        "{out}"
    );
    assert!(
        out.contains("actions the new spec makes unnecessary (the operation they are about is gone, or their filter selects nothing; remove them)"),
        "{out}"
    );
    assert!(
        out.contains(
            "the build generates 187 operations from it (19 of them typed beyond it, 1 hand-written method(s) beside them)"
        ),
        "{out}"
    );
    // It describes the current user and the workspaces itself.
    assert!(
        out.contains(
            "openapi.additions.json: operations typed beyond the spec that it now meets (5)"
        ),
        "{out}"
    );
    assert!(
        out.contains("get_workspace_quotas (GET /api/v1/workspaces/{slug}/quotas): "),
        "{out}"
    );
    vendored.assert_untouched();
}

#[test]
fn check_prints_the_report_writes_markdown_and_exits_1_without_writing() {
    let vendored = Vendored::new("check-differs", fixture(OLD));
    let (_server, url) = serve(200, "application/json", &fixture(CURRENT));
    let md = vendored.dir.join("report.md");
    let md_arg = md.display().to_string();

    let (code, out, err) = cli(&[
        "update-spec",
        "--url",
        &url,
        "--spec",
        &vendored.path(),
        "--check",
        "--report-md",
        &md_arg,
    ]);

    assert_eq!(code, DIFFERS, "{err}");
    assert!(out.contains("  operations: 94 removed, 23 added"), "{out}");
    assert!(out.contains("\nOperations added (23)\n"), "{out}");
    assert!(
        out.contains("  + `GET /api/v1/workspace/webhooks` ("),
        "{out}"
    );
    assert!(out.contains("  ! `GET /api/v1/auth/me` ("), "{out}");
    assert!(
        out.contains("Run `cargo xtask update-spec` to take it."),
        "{out}"
    );
    let md = fs::read_to_string(&md).unwrap();
    assert!(md.starts_with("## API changes\n"), "{md}");
    assert!(md.contains("| operations | 94 | 23 |"), "{md}");
    assert!(md.contains("- ⚠️ `GET /api/v1/auth/me`"), "{md}");
    vendored.assert_untouched();
}

#[test]
fn updating_current_to_current_changes_nothing() {
    let vendored = Vendored::new("current-to-current", fixture(CURRENT));
    let (_server, url) = serve(200, "application/json", &fixture(CURRENT));

    let (code, out, err) = cli(&["update-spec", "--url", &url, "--spec", &vendored.path()]);

    assert_eq!(code, SUCCESS, "{err}");
    assert!(out.ends_with(": no change.\n"), "{out}");
    vendored.assert_untouched();
}

/// The current spec with `edit` applied.
fn edited_current(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut spec: Value = serde_json::from_slice(&fixture(CURRENT)).unwrap();
    edit(&mut spec);
    serde_json::to_vec(&spec).unwrap()
}

/// The current spec without the optional field `slug` of `KMSInfo`.
fn without_kms_slug() -> Vec<u8> {
    edited_current(|spec| {
        spec["components"]["schemas"]["KMSInfo"]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("slug");
    })
}

#[test]
fn a_changed_local_file_updates_the_spec_and_reports_field_changes() {
    let vendored = Vendored::new("from-file", fixture(CURRENT));
    let candidate = vendored.dir.join("candidate.json");
    fs::write(&candidate, without_kms_slug()).unwrap();

    let (code, out, err) = cli(&[
        "update-spec",
        "--from",
        &candidate.display().to_string(),
        "--spec",
        &vendored.path(),
    ]);

    assert_eq!(code, SUCCESS, "{err}");
    assert!(
        out.contains("  operations: 0 removed, 0 added, 0 changed"),
        "{out}"
    );
    assert!(
        out.contains("  ! `KMSInfo`\n    ! field `slug` removed\n"),
        "{out}"
    );
    assert!(out.contains("updated from"), "{out}");
    assert_eq!(fs::read(&vendored.spec).unwrap(), without_kms_slug());
    assert_no_temporary_files(&vendored.dir);
}

/// Runs `update-spec` against `url` and checks it fails with `expected` in
/// its error, leaving the vendored spec as it was; returns stdout.
fn fails(test: &str, url: &str, extra: &[&str], expected: &str) -> String {
    let vendored = Vendored::new(test, fixture(OLD));
    let mut args = vec!["update-spec", "--url", url];
    let spec = vendored.path();
    args.extend(["--spec", &spec]);
    args.extend(extra);
    let (code, out, err) = cli(&args);
    assert_eq!(code, FAILURE, "{out}");
    assert!(err.contains(expected), "expected {expected:?} in: {err}");
    assert!(err.ends_with("openapi.json was not changed.\n"), "{err}");
    vendored.assert_untouched();
    out
}

#[test]
fn connection_refused_leaves_the_spec_alone() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/openapi.json");
    fails("refused", &url, &[], "cannot connect to http://127.0.0.1");
}

#[test]
fn a_404_leaves_the_spec_alone() {
    let (_server, url) = serve(404, "text/plain", b"not found");
    fails("404", &url, &[], "answered 404 Not Found, not 200 OK");
}

#[test]
fn an_html_answer_leaves_the_spec_alone() {
    let page = b"<!DOCTYPE html><html><body>Phala docs</body></html>";
    let (_server, url) = serve(200, "text/html; charset=utf-8", page);
    fails(
        "html",
        &url,
        &[],
        "it is an HTML page (Content-Type: text/html",
    );
}

#[test]
fn truncated_json_leaves_the_spec_alone() {
    let current = fixture(CURRENT);
    let (_server, url) = serve(200, "application/json", &current[..current.len() / 2]);
    fails("truncated", &url, &[], "(truncated?)");
}

#[test]
fn a_tls_failure_leaves_the_spec_alone() {
    let (server, _) = serve(200, "application/json", b"{}");
    let url = format!("https://127.0.0.1:{}/openapi.json", server.port());
    fails("tls", &url, &[], "TLS handshake with https://127.0.0.1");
}

#[test]
fn a_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/openapi.json", listener.local_addr().unwrap());
    fails(
        "timeout",
        &url,
        &["--timeout", "0.3"],
        "did not answer within 0.3s",
    );
}

/// The current spec with `edit` applied, served as upstream.
fn serve_edited(edit: impl FnOnce(&mut Value)) -> (MockServer, String) {
    serve(200, "application/json", &edited_current(edit))
}

#[test]
fn a_construct_the_normalizer_refuses_is_named_by_its_pointer() {
    let (_server, url) = serve_edited(|spec| {
        spec["paths"]["/api/v1/kms"]["get"]["requestBody"] =
            serde_json::json!({"content": {"text/plain": {"schema": {"type": "string"}}}});
    });
    let out = fails(
        "refused-construct",
        &url,
        &[],
        "the normalizer refuses the new spec at JSON pointer \
         /paths/~1api~1v1~1kms/get/requestBody/content/text~1plain: \
         request body content type `text/plain` is not generated",
    );
    assert!(
        out.contains("  operations: 94 removed, 23 added"),
        "the report still shows: {out}"
    );
}

#[test]
fn operations_colliding_after_renaming_are_refused() {
    let (_server, url) = serve_edited(|spec| {
        spec["paths"]["/api/v1/kms/{kms_id}"]["get"]["operationId"] = "list_kms".into();
    });
    fails(
        "collision",
        &url,
        &[],
        "at JSON pointer /paths/~1api~1v1~1kms~1{kms_id}/get/operationId: \
         the method name `list_kms` is also the name of openapi.json#/paths/~1api~1v1~1kms/get",
    );
}

#[test]
fn a_spec_that_is_not_openapi_3_is_refused() {
    let (_server, url) = serve(
        200,
        "application/json",
        br#"{"swagger": "2.0", "paths": {}}"#,
    );
    fails(
        "swagger",
        &url,
        &[],
        "at JSON pointer /openapi: expected OpenAPI 3.0 or 3.1",
    );
}

#[test]
fn a_spec_without_an_overlay_target_is_refused_naming_the_action() {
    let target = "$.paths['/api/v1/kms/phala/next_app_id'].get.responses['200'].content['application/json'].schema";
    let overlay = Overlay::parse(&workspace_overlay()).unwrap();
    let index = overlay
        .actions()
        .iter()
        .position(|a| a.target == target)
        .expect("the overlay types the next app ids");
    // The operation is still there, its answer is not: the spec changed
    // where the fix applies.
    let (_server, url) = serve_edited(|spec| {
        spec["paths"]["/api/v1/kms/phala/next_app_id"]["get"]["responses"]["200"]
            .as_object_mut()
            .unwrap()
            .shift_remove("content");
    });
    fails(
        "overlay-target-gone",
        &url,
        &[],
        &format!(
            "the new spec does not generate: openapi.overlay.json action {index} (target `{target}`) \
             matches nothing in the spec"
        ),
    );
}

#[test]
fn overlay_actions_a_new_spec_makes_unnecessary_are_listed() {
    let vendored = Vendored::new("overlay-unnecessary", fixture(CURRENT));
    let candidate = vendored.dir.join("candidate.json");
    let typed = edited_current(|spec| {
        let response = "/paths/~1api~1v1~1kms~1phala~1next_app_id/get/responses/200/content/application~1json/schema";
        *spec.pointer_mut(response).unwrap() =
            serde_json::json!({"type": "object", "properties": {"app_ids": {"type": "array"}}});
    });
    fs::write(&candidate, &typed).unwrap();
    let md = vendored.dir.join("report.md");

    let (code, out, err) = cli(&[
        "update-spec",
        "--from",
        &candidate.display().to_string(),
        "--spec",
        &vendored.path(),
        "--check",
        "--report-md",
        &md.display().to_string(),
    ]);

    assert_eq!(code, DIFFERS, "{err}");
    let listed = "openapi.overlay.json actions the new spec makes unnecessary (it says the same; remove them) (1)\n  \
         - action ";
    assert!(out.contains(listed), "{out}");
    assert!(
        out.contains("(`$.paths['/api/v1/kms/phala/next_app_id'].get.responses['200'].content['application/json'].schema`): The prediction answer is a `NextAppIds`."),
        "{out}"
    );
    let md = fs::read_to_string(&md).unwrap();
    assert!(
        md.contains("### openapi.overlay.json actions the new spec makes unnecessary"),
        "{md}"
    );
    vendored.assert_untouched();
}

/// `update-spec --check` with `candidate`: its exit code and its output.
fn check_candidate(test: &str, candidate: Vec<u8>) -> (u8, String, String) {
    let vendored = Vendored::new(test, fixture(CURRENT));
    let path = vendored.dir.join("candidate.json");
    fs::write(&path, candidate).unwrap();
    let result = cli(&[
        "update-spec",
        "--from",
        &path.display().to_string(),
        "--spec",
        &vendored.path(),
        "--check",
    ]);
    vendored.assert_untouched();
    result
}

#[test]
fn an_addition_a_new_spec_describes_is_named_redundant() {
    let images = serde_json::json!({
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}},
            "total": {"type": "integer"}, "page": {"type": "integer"},
            "page_size": {"type": "integer"}, "pages": {"type": "integer"}
        }
    });
    let candidate = edited_current(|spec| {
        spec["paths"]["/api/v1/os-images"] = serde_json::json!({"get": {
            "operationId": "get_os_images_api_v1_os_images_get",
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": images}}}}
        }});
    });

    let (code, out, err) = check_candidate("addition-redundant", candidate);

    assert_eq!(code, DIFFERS, "{err}");
    assert!(
        out.contains(
            "openapi.additions.json: operations typed beyond the spec that it now meets (1)"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "list_os_images (GET /api/v1/os-images): redundant: the spec describes it now"
        ),
        "{out}"
    );
}

#[test]
fn an_addition_a_new_spec_contradicts_or_no_longer_builds_on_is_named() {
    let candidate = edited_current(|spec| {
        spec["paths"]["/api/v1/auth/me"] = serde_json::json!({"get": {
            "operationId": "me_api_v1_auth_me_get",
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"username": {"type": "string"}}}
            }}}}
        }});
        let paths = spec["paths"].as_object_mut().unwrap();
        paths.remove("/api/v1/kms/{kms_id}");
    });

    let (code, out, err) = check_candidate("addition-conflicts", candidate);

    assert_eq!(code, DIFFERS, "{err}");
    assert!(
        out.contains("! get_current_user (GET /api/v1/auth/me): conflicts: the spec describes it now, differently (the spec's answer has the fields [username], the addition's [credits, features, user, workspace])"),
        "{out}"
    );
    assert!(
        out.contains("get_kms_contract (GET /api/v1/kms/{slug}): the spec no longer has the path it shares by version"),
        "{out}"
    );
}

#[test]
fn the_library_keeps_the_report_of_a_refused_spec() {
    let vendored = Vendored::new("refused-report", fixture(CURRENT));
    let (_server, url) = serve_edited(|spec| {
        spec["paths"]["/api/v1/kms/{kms_id}"]["get"]["operationId"] = "list_kms".into();
    });
    let mut update = UpdateSpec::new(&vendored.spec);
    update.source = Source::Url(url);
    match update.run() {
        Err(UpdateError::Refused {
            error,
            report: Some(report),
        }) => {
            assert_eq!(
                error.pointer,
                "/paths/~1api~1v1~1kms~1{kms_id}/get/operationId"
            );
            assert_eq!(report.operations_changed.len(), 1);
            assert_eq!(
                report.operations_changed[0].changes[0].what,
                "operationId `get_kms_info_api_v1_kms__kms_id__get` → `list_kms`"
            );
        }
        other => panic!("expected a refusal with its report, got {other:?}"),
    }
    vendored.assert_untouched();
}

#[test]
fn check_exit_codes_from_the_binary() {
    let vendored = Vendored::new("check-binary", fixture(CURRENT));
    let spec = vendored.path();
    let candidate = vendored.dir.join("changed.json");
    fs::write(&candidate, without_kms_slug()).unwrap();
    let candidate = candidate.display().to_string();
    let same = vendored.dir.join("same.json");
    fs::write(&same, fixture(CURRENT)).unwrap();
    let same = same.display().to_string();

    let (code, out, _) = binary(&["update-spec", "--check", "--from", &same, "--spec", &spec]);
    assert_eq!(code, 0, "{out}");

    let (code, out, err) = binary(&[
        "update-spec",
        "--check",
        "--from",
        &candidate,
        "--spec",
        &spec,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("  ! `KMSInfo`\n    ! field `slug` removed\n"),
        "{out}"
    );

    let (_server, url) = serve(404, "text/plain", b"");
    let (code, _, err) = binary(&["update-spec", "--check", "--url", &url, "--spec", &spec]);
    assert_eq!(code, 2);
    assert!(err.contains("answered 404"), "{err}");

    let (code, _, err) = binary(&["update-spec", "--check", "--bogus"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown option --bogus"), "{err}");
    vendored.assert_untouched();
}

#[test]
fn normalized_spec_prints_what_progenitor_is_fed() {
    let vendored = Vendored::new("normalized", fixture(CURRENT));
    let (code, out, err) = binary(&["normalized-spec", &vendored.path()]);
    assert_eq!(code, 0, "{err}");
    let normalized: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(normalized["openapi"], "3.0.3");
    assert_eq!(
        normalized["paths"]["/api/v1/kms"]["get"]["operationId"],
        "list_kms"
    );

    let missing = vendored.dir.join("missing.json").display().to_string();
    let (code, _, err) = binary(&["normalized-spec", &missing]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
    vendored.assert_untouched();
}
