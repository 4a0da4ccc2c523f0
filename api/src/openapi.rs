//! The OpenAPI 3.1 document of all four surfaces (native, myLightning, Gradido, Joy Plus and
//! its Passport), generated from the handlers' `#[utoipa::path]` attributes: each dialect's
//! router is an `OpenApiRouter` whose `routes!` register a handler and its documentation
//! together, so a route cannot exist without its entry. Served at `/openapi.json`, with
//! Swagger UI (vendored, no network needed) at `/docs`.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub const OPENAPI_PATH: &str = "/openapi.json";
pub const DOCS_PATH: &str = "/docs";

#[derive(OpenApi)]
#[openapi(
    info(title = "ledger", description = "An event-sourced wallet ledger with three wallet dialects on one core."),
    modifiers(&SecuritySchemes),
    tags(
        (name = "native", description = "The native ledger API: accounts, movements, holds, the event log (admin key as Bearer token)"),
        (name = "gradido", description = "The Gradido login server's JSON API: every call answers HTTP 200 with a `state`; sessions travel in the body as `session_id`"),
        (name = "mylightning", description = "The myLightning web wallet: cookie `connect.sid`, CSRF token `_csrf` on every POST but login"),
        (name = "joyplus", description = "The Joy Plus token wallet: session cookie `joy.sid`, API keys, or the admin key"),
        (name = "passport", description = "The embedded Passport Joy Plus signs on with"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let header = |description: &str| {
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description("Authorization", description)))
        };
        let cookie = |name: &str, description: &str| {
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(name, description)))
        };
        components.add_security_scheme(
            "admin_bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme("lightning_session", cookie("connect.sid", "Set by POST /rest/v1/login"));
        components.add_security_scheme("joy_session", cookie("joy.sid", "Set by GET /api/v1/sso.html"));
        components
            .add_security_scheme("joy_api_key", header("An API key from POST /api/v1/api-key, as is (no scheme)"));
        components.add_security_scheme("joy_admin_key", header("LEDGER_ADMIN_KEY, as is (no scheme)"));
    }
}
