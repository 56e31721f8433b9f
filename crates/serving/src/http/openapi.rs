//! The OpenAPI 3.0 document served at `/openapi.json`, written by hand. A test checks that
//! its paths and methods are exactly the router's.

use serde_json::{json, Value};

/// Every route of the server with its method, as the router registers them.
pub const ROUTES: [(&str, &str); 10] = [
    ("post", "/invocations"),
    ("post", "/v1/predict"),
    ("get", "/health"),
    ("get", "/ping"),
    ("get", "/ready"),
    ("get", "/version"),
    ("get", "/v1/models"),
    ("post", "/v1/reload"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
];

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn selection_parameters() -> Value {
    json!([
        {"name": "top_k", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1},
         "description": "Return at most this many labels per work, highest score first."},
        {"name": "threshold", "in": "query", "required": false, "schema": {"type": "number", "minimum": 0, "maximum": 1},
         "description": "Return every label scoring at least this, instead of the model's own decisions."}
    ])
}

fn json_ok(description: &str, schema: Value) -> Value {
    json!({"200": {"description": description, "content": {"application/json": {"schema": schema}}}})
}

/// Returns the document.
pub fn document() -> Value {
    let limits = json!({
        "400": error_response("Invalid request: the message names the field, row or JSON position, or the limit of works per request."),
        "408": error_response("The body did not arrive within the request timeout."),
        "413": error_response("The body exceeds the size limit."),
        "415": error_response("Unsupported content type."),
        "503": error_response("No model loaded yet, or scoring did not finish within the request timeout.")
    });
    let with_limits = |ok: Value| {
        let mut responses = ok;
        if let (Some(responses), Some(limits)) = (responses.as_object_mut(), limits.as_object()) {
            responses.extend(limits.clone());
        }
        responses
    };

    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "topicops model server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Predicts ASJC subjects of scholarly works. Every error body is {\"error\": {\"code\", \"message\"}}; every response carries x-request-id."
        },
        "paths": {
            "/invocations": {"post": {
                "summary": "Score rows with the MLflow scoring protocol",
                "description": "JSON with exactly one of dataframe_split, dataframe_records, instances, inputs (and optional params: top_k, threshold), or text/csv with a header row. Columns: id, title, abstract, container_title, issn, publisher, type; null is empty.",
                "parameters": selection_parameters(),
                "requestBody": {"required": true, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/InvocationsRequest"}},
                    "text/csv": {"schema": {"type": "string"}}
                }},
                "responses": with_limits(json_ok("One prediction per input row, in order.", json!({"$ref": "#/components/schemas/InvocationsResponse"})))
            }},
            "/v1/predict": {"post": {
                "summary": "Predict the ASJC subjects of works",
                "description": "Works in topicops' shape (works), raw Crossref /works items (items), or a Crossref REST API response (message). top_k and threshold may also be given in the body.",
                "parameters": selection_parameters(),
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}}},
                "responses": with_limits(json_ok("One prediction per work, in order.", json!({"$ref": "#/components/schemas/PredictResponse"})))
            }},
            "/health": {"get": {"summary": "Liveness: the process is up", "responses": json_ok("Up.", json!({"type": "object"}))}},
            "/ping": {"get": {"summary": "Readiness, as MLflow's /ping", "responses": {
                "200": {"description": "A model is loaded."}, "503": error_response("No model loaded yet.")}}},
            "/ready": {"get": {"summary": "Readiness: a model is loaded", "responses": {
                "200": {"description": "A model is loaded."}, "503": error_response("No model loaded yet.")}}},
            "/version": {"get": {"summary": "Server and model version", "responses": json_ok("Versions.", json!({"type": "object"}))}},
            "/v1/models": {"get": {"summary": "The loaded model: version, run, labels", "responses": json_ok("Model information.", json!({"type": "object"}))}},
            "/v1/reload": {"post": {
                "summary": "Check the registry now and load the referenced version",
                "security": [{"bearer": []}],
                "responses": {
                    "200": {"description": "Outcome: unchanged, swapped or failed (the previous model keeps serving).", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "401": error_response("Missing or wrong bearer token.")
                }
            }},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "Text exposition format 0.0.4.", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": json_ok("OpenAPI 3 document.", json!({"type": "object"}))}}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}}}}},
                "InvocationsRequest": {"type": "object", "properties": {
                    "dataframe_split": {"type": "object", "properties": {"columns": {"type": "array", "items": {"type": "string"}}, "data": {"type": "array", "items": {"type": "array", "items": {}}}, "index": {"type": "array", "items": {}}}},
                    "dataframe_records": {"type": "array", "items": {"type": "object"}},
                    "instances": {"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}]},
                    "inputs": {"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}]},
                    "params": {"type": "object", "properties": {"top_k": {"type": "integer", "minimum": 1}, "threshold": {"type": "number", "minimum": 0, "maximum": 1}}}
                }},
                "InvocationsResponse": {"type": "object", "properties": {"predictions": {"type": "array", "items": {"type": "object", "properties": {
                    "labels": {"type": "array", "items": {"type": "string"}},
                    "scores": {"type": "array", "items": {"type": "number"}},
                    "empty_reason": {"type": "string", "nullable": true}}}}}},
                "Work": {"type": "object", "additionalProperties": false, "properties": {
                    "id": {"type": "string"}, "title": {"type": "string"}, "abstract": {"type": "string"}, "venue": {"type": "string"},
                    "issns": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                    "publisher": {"type": "string"}, "type": {"type": "string"}}},
                "PredictRequest": {"type": "object", "properties": {
                    "works": {"type": "array", "items": {"$ref": "#/components/schemas/Work"}},
                    "items": {"type": "array", "items": {"type": "object", "description": "A Crossref /works item."}},
                    "message": {"type": "object", "description": "A Crossref REST API message: {items: [...]} or one work."},
                    "top_k": {"type": "integer", "minimum": 1},
                    "threshold": {"type": "number", "minimum": 0, "maximum": 1}}},
                "PredictResponse": {"type": "object", "properties": {
                    "model": {"type": "object", "properties": {"name": {"type": "string"}, "version": {"type": "integer"}, "run_id": {"type": "string", "nullable": true}}},
                    "predictions": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "string", "nullable": true},
                        "labels": {"type": "array", "items": {"type": "object", "properties": {
                            "code": {"type": "string"}, "name": {"type": "string", "nullable": true},
                            "level": {"type": "string", "enum": ["area", "field", "subject"], "nullable": true},
                            "score": {"type": "number"}}}},
                        "empty_reason": {"type": "string", "nullable": true}}}}}}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_lists_exactly_the_routes() {
        let document = document();
        let paths = document["paths"].as_object().unwrap();
        let mut documented: Vec<(String, String)> = paths
            .iter()
            .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |method| (method.clone(), path.clone())))
            .collect();
        documented.sort();
        let mut routes: Vec<(String, String)> =
            ROUTES.iter().map(|(method, path)| (method.to_string(), path.to_string())).collect();
        routes.sort();
        assert_eq!(documented, routes);
    }

    #[test]
    fn schema_references_resolve() {
        let document = document();
        let text = document.to_string();
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "missing schema {name}");
        }
    }
}
