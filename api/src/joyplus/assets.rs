//! `GET /asset`, `GET /asset/{id}` (any caller) and `POST /asset` (admin): the assets the
//! wallet lists. Listing defines the asset in the ledger if it is new; an asset's decimals
//! never change.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use domain::asset::{AssetCommand, AssetListing};
use domain::joyplus::EthAddress;
use domain::{AssetCode, Scale};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio_postgres::Row;

use super::auth::Caller;
use super::filters::{id_filter, symbol_filter};
use super::paging::{path_id, Page};
use super::wire::{data, millis, price_text, JoyError, JoyJson};
use super::JoyState;
use app::AppError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = joy::Asset)]
pub struct AssetView {
    id: i64,
    name: String,
    symbol: String,
    decimals: i32,
    contract_address: String,
    usd_price: String,
    icon_url: String,
    created_at: i64,
}

impl AssetView {
    fn from_row(row: &Row) -> Self {
        Self {
            id: row.get(0),
            name: row.get(1),
            symbol: row.get(2),
            decimals: row.get(3),
            contract_address: row.get(4),
            usd_price: price_text(row.get(5)),
            icon_url: row.get(6),
            created_at: millis(row.get::<_, DateTime<Utc>>(7)),
        }
    }
}

async fn query_assets(
    state: &JoyState,
    id: Option<i64>,
    symbol: Option<String>,
    decimals: Option<i64>,
    page: Page,
) -> Result<Vec<AssetView>, AppError> {
    let client = state.ledger.reads.get().await?;
    let rows =
        projections::read_models::joy_plus::assets(&client, id, symbol.as_deref(), decimals, page.after_id, page.limit)
            .await?;
    Ok(rows.iter().map(AssetView::from_row).collect())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetQuery {
    #[param(value_type = Option<super::paging::QueryId>)]
    id: Option<String>,
    #[param(pattern = r"^([A-Z0-9]{2,12})?$")]
    symbol: Option<String>,
    #[param(value_type = Option<super::paging::QueryId>)]
    decimals: Option<String>,
    /// Rows per page: 1 to 500, default 100.
    #[param(value_type = Option<super::paging::QueryLimit>)]
    limit: Option<String>,
    /// `nextCursor` of the previous page.
    #[param(value_type = Option<super::paging::QueryId>)]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/asset", tag = "joyplus", params(AssetQuery), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<AssetView>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn list(
    State(state): State<JoyState>,
    _caller: Caller,
    Query(query): Query<AssetQuery>,
) -> Result<Response, JoyError> {
    let page_spec = Page::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    let id = id_filter(query.id.as_deref(), "id")?;
    let decimals = id_filter(query.decimals.as_deref(), "decimals")?;
    let rows = query_assets(&state, id, symbol_filter(query.symbol.as_deref())?, decimals, page_spec).await?;
    Ok(page_spec.respond(rows, |row| Some(row.id)))
}

#[utoipa::path(get, path = "/api/v1/asset/{id}", tag = "joyplus", params(("id" = String, Path, description = "The id")), security(("joy_session" = []), ("joy_api_key" = []), ("joy_admin_key" = [])), responses((status = 200, description = "The rows", body = super::paging::JoyList<AssetView>), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn get_one(
    State(state): State<JoyState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, JoyError> {
    let rows = query_assets(&state, Some(path_id(&id, "asset")?), None, None, Page::ONE).await?;
    Page::single(rows, "asset")
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateAsset {
    #[schema(max_length = 128)]
    name: String,
    #[schema(pattern = r"^[A-Z0-9]{2,12}$")]
    symbol: String,
    #[schema(maximum = 18)]
    #[serde(deserialize_with = "crate::json_integers::u32")]
    decimals: u32,
    #[schema(pattern = r"^0x([0-9a-f]{40}|[0-9A-F]{40})$")]
    contract_address: String,
    /// A number in the seed; a decimal string is accepted too. Read exactly, never as a float.
    #[schema(value_type = UsdPrice)]
    usd_price: Value,
    #[schema(max_length = 512)]
    icon_url: String,
}

/// The schema of `usd_price`: a number or decimal text, not negative, at most 18 decimals.
struct UsdPrice;

impl utoipa::PartialSchema for UsdPrice {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Number).minimum(Some(0)))
            .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^[0-9]+(\.[0-9]{1,18})?$")))
            .into()
    }
}

impl utoipa::ToSchema for UsdPrice {}

/// A price from JSON without passing through a float: serde_json keeps a number's digits.
fn price(value: &Value) -> Result<Decimal, JoyError> {
    let (text, numeric) = match value {
        Value::Number(number) => (number.to_string(), true),
        Value::String(text) => (text.clone(), false),
        _ => (String::new(), false),
    };
    Decimal::from_str_exact(&text).or_else(|_| Decimal::from_scientific(&text)).map_err(|_| {
        if numeric {
            // A JSON number, but past what a decimal holds.
            domain::DomainError::PriceInvalid.into()
        } else {
            JoyError::bad_request("usd_price must be a decimal number")
        }
    })
}

#[utoipa::path(post, path = "/api/v1/asset", tag = "joyplus", request_body = CreateAsset, security(("joy_admin_key" = [])), responses((status = 200, description = "`{\"data\": ...}`"), (status = 400, description = "`{\"error\":{\"message\"}}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "This caller may not do this"), (status = 404, description = "Not found"), (status = 409, description = "Conflict"), (status = 429, description = "Too many attempts")))]
pub async fn create(
    State(state): State<JoyState>,
    caller: Caller,
    JoyJson(request): JoyJson<CreateAsset>,
) -> Result<Response, JoyError> {
    caller.require_admin()?;
    let code = AssetCode::parse(&request.symbol)?;
    let scale = Scale::new(request.decimals)?;
    let listing = AssetListing {
        name: request.name,
        contract_address: EthAddress::parse(&request.contract_address)?,
        usd_price: price(&request.usd_price)?,
        icon_url: request.icon_url,
    };
    let bus = &state.ledger.bus;
    bus.execute(code.as_str(), AssetCommand::Define { code: code.clone(), scale }, &store::Operation::fresh()).await?;
    let outcome = bus.execute(code.as_str(), AssetCommand::List { listing }, &store::Operation::fresh()).await?;
    let event = outcome.event().ok_or_else(|| AppError::Internal("a listing appended nothing".into()))?;
    state.ledger.await_read_models(event).await;
    Ok(data(json!({ "message": format!("Asset {} added", event.position) })))
}
