use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use domain::asset::AssetCommand;
use domain::{AssetCode, Scale};
use serde::{Deserialize, Serialize};

use super::error::NativeError;
use super::json::NativeJson;
use super::NativeState;
use crate::idempotency::created;
use app::AppError;
use app::Outcome;

/// More assets than any wallet lists; the list is not paged.
const MAX_ASSETS_LISTED: i64 = 1_000;

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefineAssetRequest {
    #[schema(pattern = r"^[A-Z0-9]{2,12}$")]
    pub code: String,
    #[schema(maximum = 18)]
    #[serde(deserialize_with = "crate::json_integers::u32")]
    pub scale: u32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetView {
    pub code: String,
    pub scale: u32,
}

/// Defines an asset. Defining it again with the same scale answers the same (replayed);
/// another scale is `409 asset_exists`: an asset's scale never changes.
#[utoipa::path(post, path = "/v1/assets", tag = "native", request_body = DefineAssetRequest, security(("admin_bearer" = [])), responses((status = 201, description = "Defined", body = AssetView), (status = 200, description = "Already defined with this scale", body = AssetView), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn define(
    State(state): State<NativeState>,
    _headers: HeaderMap,
    NativeJson(request): NativeJson<DefineAssetRequest>,
) -> Result<Response, NativeError> {
    let code = AssetCode::parse(&request.code)?;
    let scale = Scale::new(request.scale)?;
    let outcome = state
        .ledger
        .bus
        .execute(code.as_str(), AssetCommand::Define { code: code.clone(), scale }, &store::Operation::fresh())
        .await?;
    if let Some(event) = outcome.event() {
        state.ledger.await_read_models(event).await;
    }
    let view = AssetView { code: code.to_string(), scale: scale.decimals() };
    Ok(created(view, matches!(outcome, Outcome::Unchanged)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetList {
    assets: Vec<AssetView>,
}

#[utoipa::path(get, path = "/v1/assets", tag = "native", security(("admin_bearer" = [])), responses((status = 200, description = "Success", body = AssetList), (status = 400, description = "Invalid request: `{\"error\":{\"code\",\"message\"}}`"), (status = 401, description = "Missing or wrong admin key"), (status = 404, description = "Not found"), (status = 409, description = "Conflict, e.g. an Idempotency-Key reused with another body"), (status = 422, description = "Refused by the ledger, e.g. insufficient funds")))]
pub async fn list(State(state): State<NativeState>) -> Result<Json<AssetList>, NativeError> {
    let client = state.ledger.reads.get().await.map_err(AppError::from)?;
    let rows = projections::read_models::assets::all(&client, MAX_ASSETS_LISTED).await.map_err(AppError::from)?;
    let assets = rows.into_iter().map(|(code, scale)| AssetView { code, scale }).collect();
    Ok(Json(AssetList { assets }))
}
