//! Every response of the OpenAPI document gets a content type and a schema: each dialect
//! answers its failures in one envelope, so the envelope is filled in here once per dialect
//! instead of on each of the hundred-odd handler attributes. A success body a handler declares
//! itself (`body = ...`) is kept. Statuses any route of a dialect can answer (a bug caught as
//! 500, storage unavailable as 503, a body over the limit as 413) are added where missing.

use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{Schema, Type};
use utoipa::openapi::{Content, ContentBuilder, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

/// The native API's failure: `{"error": {"code", "message"}}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NativeErrorBody {
    error: NativeErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NativeErrorDetail {
    /// A stable code, e.g. `insufficient_funds`.
    code: String,
    message: String,
}

/// The failure of myLightning, Joy Plus and its Passport: `{"error": {"message"}}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MessageErrorBody {
    error: MessageErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MessageErrorDetail {
    message: String,
}

/// Every answer of the Gradido login server (always HTTP 200): `state` is `success` or names
/// the failure, `msg` and `details` say more; a call's own fields come beside them.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct GradidoAnswer {
    /// `success`, `error`, `not found`, `invalid parameter`, `warning`, ...
    state: String,
    msg: Option<String>,
    details: Option<serde_json::Value>,
}

/// A Joy Plus success: `{"data": ...}`, with `nextCursor` on a full page.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct JoyData {
    data: serde_json::Value,
    #[schema(rename = "nextCursor")]
    next_cursor: Option<String>,
}

/// A myLightning answer: the call's fields, or `{"error": {"message"}}` for a business
/// failure (HTTP 200, as the original server answers it).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct LightningAnswer {
    error: Option<MessageErrorDetail>,
}

const JSON: &str = "application/json";

/// Which envelope a surface answers in, from its tag.
#[derive(Clone, Copy, PartialEq)]
enum Surface {
    Native,
    Lightning,
    Gradido,
    Joy,
    Operations,
}

impl Surface {
    fn of(operation: &Operation) -> Option<Self> {
        let tag = operation.tags.as_ref()?.first()?;
        Some(match tag.as_str() {
            "native" => Self::Native,
            "mylightning" => Self::Lightning,
            "gradido" => Self::Gradido,
            "joyplus" | "passport" => Self::Joy,
            "operations" => Self::Operations,
            _ => return None,
        })
    }

    fn failure_schema(self) -> Option<&'static str> {
        match self {
            Self::Native | Self::Operations => Some("NativeErrorBody"),
            Self::Lightning | Self::Joy => Some("MessageErrorBody"),
            Self::Gradido => None,
        }
    }

    fn success_schema(self) -> Option<&'static str> {
        match self {
            Self::Gradido => Some("GradidoAnswer"),
            Self::Joy => Some("JoyData"),
            Self::Lightning => Some("LightningAnswer"),
            Self::Native | Self::Operations => None,
        }
    }
}

fn json_of(schema: &str) -> Content {
    ContentBuilder::new().schema(Some(Ref::from_schema_name(schema))).build()
}

fn failure(description: &str, schema: &str) -> RefOr<Response> {
    RefOr::T(ResponseBuilder::new().description(description).content(JSON, json_of(schema)).build())
}

/// Fills in the document the routers produced (call once, after every route is merged).
pub fn complete(mut openapi: OpenApi) -> OpenApi {
    let components = openapi.components.get_or_insert_with(Default::default);
    for (name, schema) in [
        ("NativeErrorBody", NativeErrorBody::schema()),
        ("NativeErrorDetail", NativeErrorDetail::schema()),
        ("MessageErrorBody", MessageErrorBody::schema()),
        ("MessageErrorDetail", MessageErrorDetail::schema()),
        ("GradidoAnswer", GradidoAnswer::schema()),
        ("JoyData", JoyData::schema()),
        ("LightningAnswer", LightningAnswer::schema()),
        // Shared text shapes: a header or path parameter's type is not registered by utoipa.
        ("AccountId", crate::text_schemas::AccountId::schema()),
        ("IdempotencyKey", crate::text_schemas::IdempotencyKey::schema()),
        ("NativeAmount", crate::text_schemas::NativeAmount::schema()),
        ("JoyAmount", crate::text_schemas::JoyAmount::schema()),
        ("Email", crate::text_schemas::Email::schema()),
    ] {
        components.schemas.insert(name.to_string(), schema);
    }
    let schemas = components.schemas.clone();
    for item in openapi.paths.paths.values_mut() {
        if let (Some(get), Some(post)) = (&mut item.get, &item.post) {
            if Surface::of(get) == Some(Surface::Gradido) {
                get.request_body = None;
                get.parameters = Some(query_of_body(post, &schemas));
            }
        }
        let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            complete_operation(operation);
        }
    }
    openapi
}

fn complete_operation(operation: &mut Operation) {
    let Some(surface) = Surface::of(operation) else { return };
    let has_body = operation.request_body.is_some();
    let responses = &mut operation.responses.responses;
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        if !response.content.is_empty() {
            continue;
        }
        let schema = match status.chars().next() {
            Some('4' | '5') => surface.failure_schema(),
            Some('2') => surface.success_schema(),
            _ => None,
        };
        if let Some(schema) = schema {
            response.content.insert(JSON.to_string(), json_of(schema));
        }
    }
    let Some(schema) = surface.failure_schema() else { return };
    if surface != Surface::Operations {
        responses.entry("500".into()).or_insert_with(|| failure("A bug, caught and logged", schema));
        responses.entry("503".into()).or_insert_with(|| failure("Storage unavailable; retry", schema));
    }
    if has_body {
        responses.entry("413".into()).or_insert_with(|| failure("The body is over 64 KiB", schema));
        if surface == Surface::Joy {
            responses
                .entry("422".into())
                .or_insert_with(|| failure("Well-formed, but refused on its merits (e.g. an expiry past)", schema));
        }
    }
}

/// A Gradido call's GET form: the fields of its POST body as query parameters (a query
/// carries text, so a list or an object field can only come in a POST).
fn query_of_body(post: &Operation, schemas: &std::collections::BTreeMap<String, RefOr<Schema>>) -> Vec<Parameter> {
    let body_schema =
        post.request_body.as_ref().and_then(|body| body.content.get(JSON)).and_then(|content| match &content.schema {
            Some(RefOr::Ref(reference)) => reference.ref_location.rsplit('/').next(),
            _ => None,
        });
    let Some(RefOr::T(Schema::Object(object))) = body_schema.and_then(|name| schemas.get(name)) else {
        return Vec::new();
    };
    object
        .properties
        .iter()
        .filter(|(_, schema)| {
            !matches!(schema, RefOr::T(Schema::Array(_)))
                && !matches!(schema, RefOr::T(Schema::Object(field)) if field.schema_type == Type::Object.into())
        })
        .map(|(name, schema)| {
            let required = if object.required.contains(name) { Required::True } else { Required::False };
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(required)
                .schema(Some(schema.clone()))
                .build()
        })
        .collect()
}
