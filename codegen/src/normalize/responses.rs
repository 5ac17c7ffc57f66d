//! Success responses in the shapes the client can read.

use serde_json::Value;

use super::Context;
use crate::walk::operations;
use crate::SpecError;

/// A `HEAD` answer has no body (RFC 9110 §9.3.2), whatever content the spec
/// declares for it (`HEAD /attestations/raw/{checksum}` copies its `GET`'s
/// `application/json`): its success responses lose their `content`, so the
/// client returns `()` instead of failing to decode an empty body.
pub fn drop_head_response_bodies(spec: &mut Value, _: &mut Context) -> Result<(), SpecError> {
    operations(spec, &mut |op| {
        if op.method != "head" {
            return Ok(());
        }
        let Some(responses) = op.op.get_mut("responses").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        for (status, response) in responses.iter_mut() {
            if status.starts_with('2') {
                if let Some(response) = response.as_object_mut() {
                    response.remove("content");
                }
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn head_success_responses_lose_their_content_and_nothing_else_changes() {
        let json_body =
            json!({"content": {"application/json": {"schema": {}}}, "description": "d"});
        let mut spec = json!({"paths": {"/raw": {
            "head": {"responses": {"200": json_body, "404": json_body}},
            "get": {"responses": {"200": json_body}}
        }}});
        drop_head_response_bodies(&mut spec, &mut Context::default()).unwrap();
        assert_eq!(
            spec["paths"]["/raw"]["head"]["responses"]["200"],
            json!({"description": "d"})
        );
        assert_eq!(spec["paths"]["/raw"]["head"]["responses"]["404"], json_body);
        assert_eq!(spec["paths"]["/raw"]["get"]["responses"]["200"], json_body);
    }
}
