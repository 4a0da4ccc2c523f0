//! The login server's own port: the community server calls `host:port/<call>`, without
//! `/login_api`. A listener given `at_root(router)` serves the Gradido calls there.

use axum::extract::Request;
use axum::Router;

const PREFIX: &str = "/login_api";

/// `router` with every request's path taken as a Gradido call: `/login` is
/// `/login_api/login`. Nothing else of the service is reachable through it.
pub fn at_root(router: Router) -> Router {
    Router::new().fallback_service(router).layer(axum::middleware::map_request(under_prefix))
}

async fn under_prefix(mut request: Request) -> Request {
    let path_and_query = request.uri().path_and_query().map_or("/", |path| path.as_str());
    if let Ok(uri) = format!("{PREFIX}{path_and_query}").parse() {
        *request.uri_mut() = uri;
    }
    request
}
