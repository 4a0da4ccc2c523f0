//! The OpenAPI document covers every route of all four surfaces, and every documented route
//! is served.

use std::collections::BTreeSet;

use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

const METHODS: [&str; 4] = ["get", "post", "put", "delete"];

/// Every `(method, path)` the source registers through `routes!(..)`, read from the
/// handlers' `#[utoipa::path(method, path = "..")]` attributes, and every plain `.route(`.
fn routes_in_source() -> (BTreeSet<(String, String)>, Vec<String>) {
    let mut documented = BTreeSet::new();
    let mut plain = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/api/src"))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for attribute in text.split("#[utoipa::path(").skip(1) {
                // `get, ...` or `method(get, post), ...`
                let methods = match attribute.strip_prefix("method(") {
                    Some(rest) => rest.split(')').next().unwrap().to_string(),
                    None => attribute.split(',').next().unwrap().to_string(),
                };
                let route = attribute.split("path = \"").nth(1).unwrap().split('"').next().unwrap().to_string();
                for method in methods.split(',') {
                    documented.insert((method.trim().to_string(), route.clone()));
                }
            }
            for line in text.lines().filter(|line| line.contains(".route(\"")) {
                plain.push(format!("{}: {}", path.display(), line.trim()));
            }
        }
    }
    (documented, plain)
}

fn spec_routes(spec: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                routes.insert((method.to_string(), path.clone()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn every_route_of_every_surface_is_in_the_openapi_document_and_served() {
    let app = TestApp::spawn().await;
    let response = app.http.get(format!("{}/openapi.json", app.base_url)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let spec: Value = response.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"), "{}", spec["openapi"]);

    let (documented, plain) = routes_in_source();
    // The one route kept out on purpose: the native API's catch-all that answers
    // `route not found` in the native error format.
    assert_eq!(plain.len(), 1, "routes registered outside the OpenAPI router: {plain:#?}");
    assert!(plain[0].contains("/v1/{*rest}"), "{plain:?}");
    let in_spec = spec_routes(&spec);
    assert_eq!(in_spec, documented, "the document and the handlers' attributes disagree");

    let count = |tag: &str| {
        in_spec
            .iter()
            .filter(|(method, path)| {
                spec["paths"][path][method]["tags"].as_array().is_some_and(|tags| tags.iter().any(|t| t == tag))
            })
            .count()
    };
    assert!(count("native") >= 14, "native: {}", count("native"));
    // Every login-server call answers GET and POST.
    assert_eq!(count("gradido"), 2 * 25);
    assert_eq!(count("mylightning"), 18);
    assert_eq!(count("joyplus"), 29);
    assert_eq!(count("passport"), 2);
    let parameters = |method: &str, path: &str| -> Vec<String> {
        spec["paths"][path][method]["parameters"].as_array().map_or_else(Vec::new, |parameters| {
            parameters.iter().map(|parameter| parameter["name"].as_str().unwrap().to_string()).collect()
        })
    };
    assert_eq!(
        parameters("get", "/api/v1/balance"),
        ["id", "address", "symbol", "limit", "cursor"],
        "the seed's filters and paging"
    );
    assert_eq!(parameters("get", "/api/v1/locked-balance/{id}"), ["id"]);
    assert!(parameters("get", "/v1/events").contains(&"after".to_string()));
    let body = &spec["paths"]["/api/v1/withdraw-joy"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert!(body.get("$ref").is_some() || body.get("properties").is_some(), "typed request bodies: {body}");
    for scheme in ["admin_bearer", "lightning_session", "joy_session", "joy_api_key", "joy_admin_key"] {
        assert!(spec["components"]["securitySchemes"].get(scheme).is_some(), "{scheme}");
    }

    // Every documented route is routed: without credentials each answers from its handler
    // or its authentication (never axum's empty 404 or 405 for an unknown route).
    for (method, path) in &in_spec {
        let url = format!("{}{}", app.base_url, path.replace("{id}", "1").replace("{hold}", "h1"));
        let request = match method.as_str() {
            "get" => app.http.get(&url),
            "post" => app.http.post(&url).json(&serde_json::json!({})),
            "put" => app.http.put(&url).json(&serde_json::json!({})),
            _ => app.http.delete(&url),
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(status != StatusCode::NOT_FOUND || !body.is_empty(), "{method} {path} is not routed");
        assert!(!body.contains("route not found"), "{method} {path} fell through to the catch-all");
    }

    let docs = app.http.get(format!("{}/docs/", app.base_url)).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"), "Swagger UI is served at /docs");
}

#[tokio::test]
async fn routes_declare_their_idempotency_key_201_typed_bodies_and_limits() {
    let app = TestApp::spawn().await;
    let spec: Value =
        app.http.get(format!("{}/openapi.json", app.base_url)).send().await.unwrap().json().await.unwrap();
    for path in ["/v1/deposits", "/v1/withdrawals", "/v1/transfers", "/v1/holds", "/v1/accounts"] {
        let operation = &spec["paths"][path]["post"];
        let header = operation["parameters"]
            .as_array()
            .and_then(|parameters| parameters.iter().find(|parameter| parameter["name"] == "Idempotency-Key"))
            .unwrap_or_else(|| panic!("{path} declares Idempotency-Key: {operation}"));
        assert_eq!(header["in"], "header");
        assert!(operation["responses"].get("201").is_some(), "{path} documents 201");
    }
    for path in [
        "/rest/v1/createinvoice",
        "/rest/v1/sendinvoice",
        "/rest/v1/quickpay",
        "/rest/v1/addcontact",
        "/rest/v1/openchannel",
    ] {
        let body = &spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"];
        assert!(body.get("$ref").is_some(), "{path} has a typed request body: {body}");
    }
    for path in ["/v1/events", "/v1/accounts"] {
        let parameters = spec["paths"][path]["get"]["parameters"].as_array().unwrap();
        let limit = parameters.iter().find(|parameter| parameter["name"] == "limit").expect("a limit");
        assert_eq!(
            (limit["schema"]["minimum"].as_f64(), limit["schema"]["maximum"].as_f64()),
            (Some(1.0), Some(1000.0)),
            "{path}: {limit}"
        );
    }
}

#[tokio::test]
async fn every_answer_of_every_operation_declares_its_content_type_and_schema() {
    let app = TestApp::spawn().await;
    let spec: Value =
        app.http.get(format!("{}/openapi.json", app.base_url)).send().await.unwrap().json().await.unwrap();
    let mut answers = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(operation) = item.get(method) else { continue };
            for (status, response) in operation["responses"].as_object().unwrap() {
                // A WebSocket upgrade and a redirect carry no body.
                if status == "101" || status.starts_with('3') {
                    continue;
                }
                let content = response["content"].as_object();
                let schema = content.and_then(|content| content.values().next()).map(|media| &media["schema"]);
                assert!(
                    schema.is_some_and(|schema| !schema.is_null()),
                    "{method} {path} {status} declares no body schema: {response}"
                );
                answers += 1;
            }
            let statuses = operation["responses"].as_object().unwrap();
            if !path.starts_with("/login_api") && path != "/health" && path != "/metrics" {
                assert!(statuses.contains_key("500"), "{method} {path} documents the 500 of a caught bug");
            }
            if operation.get("requestBody").is_some() {
                assert!(statuses.contains_key("413") || path.starts_with("/login_api"), "{method} {path}: 413");
            }
        }
    }
    assert!(answers > 400, "{answers} answers");
    // A Gradido call's GET form takes its POST body's fields as query parameters.
    let get = &spec["paths"]["/login_api/unsecureLogin"]["get"];
    assert!(get.get("requestBody").is_none(), "a GET carries no body: {get}");
    let names: Vec<&str> =
        get["parameters"].as_array().unwrap().iter().map(|parameter| parameter["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"email") && names.contains(&"password"), "{names:?}");
    let native_failure = &spec["paths"]["/v1/transfers"]["post"]["responses"]["422"]["content"]["application/json"];
    assert_eq!(native_failure["schema"]["$ref"], "#/components/schemas/NativeErrorBody");
    // Joy Plus lists name their rows' shape, so schemathesis checks each row.
    let balances = &spec["paths"]["/api/v1/balance"]["get"]["responses"]["200"]["content"]["application/json"];
    assert_eq!(balances["schema"]["$ref"], "#/components/schemas/JoyList_joy.Balance");
    let row = &spec["components"]["schemas"]["joy.Balance"]["properties"];
    assert!(row.get("lockedAmount").is_some() && row.get("stakedAmount").is_some(), "{row}");
}
