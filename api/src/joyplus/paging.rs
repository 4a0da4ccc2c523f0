//! Lists: `limit` (default 100, at most 500) and `cursor` (the last id of the previous page;
//! rows come in ascending id order). A full page answers with `nextCursor`.

use axum::response::Response;
use serde::Serialize;

use super::wire::{page, JoyError};

pub const DEFAULT_PAGE_ROWS: i64 = 100;
pub const MAX_PAGE_ROWS: i64 = 500;

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub after_id: i64,
}

impl Page {
    /// From a list's `limit` and `cursor` query parameters (strings, as the query gives them).
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, JoyError> {
        let limit = match limit {
            None | Some("") => DEFAULT_PAGE_ROWS,
            Some(text) => text
                .parse()
                .ok()
                .filter(|limit| (1..=MAX_PAGE_ROWS).contains(limit))
                .ok_or_else(|| JoyError::bad_request(format!("limit must be 1 to {MAX_PAGE_ROWS}")))?,
        };
        let after_id = match cursor {
            None | Some("") => 0,
            Some(cursor) => cursor.parse().map_err(|_| JoyError::bad_request("cursor is not valid"))?,
        };
        Ok(Self { limit, after_id })
    }

    /// The page as a response: its rows, and the next page's cursor when this one is full.
    pub fn respond<T: Serialize>(&self, rows: Vec<T>, id_of: impl Fn(&T) -> Option<i64>) -> Response {
        let full = i64::try_from(rows.len()).ok() == Some(self.limit);
        let next = if full { rows.last().and_then(id_of) } else { None };
        page(rows, next)
    }

    /// The single row of a get-by-id, or 404.
    pub fn single<T: Serialize>(rows: Vec<T>, what: &str) -> Result<Response, JoyError> {
        if rows.is_empty() {
            return Err(JoyError::not_found(what));
        }
        Ok(page(rows, None))
    }

    /// What a get-by-id reads: one row.
    pub const ONE: Page = Page { limit: 1, after_id: 0 };
}

/// An id from the URL: digits only, else 404 (as for any id that names nothing).
pub fn path_id(text: &str, what: &str) -> Result<i64, JoyError> {
    text.parse().ok().filter(|id: &i64| *id > 0).ok_or_else(|| JoyError::not_found(what))
}

/// A list's answer, for the OpenAPI document: `data` holds the rows; `nextCursor` comes
/// with a full page (a get-by-id answers a list of one).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct JoyList<T: utoipa::ToSchema> {
    data: Vec<T>,
    #[schema(rename = "nextCursor")]
    next_cursor: Option<String>,
}

/// The schema of an id or cursor query parameter: a whole number, or empty (as if absent).
pub struct QueryId;

/// The schema of `limit`: 1 to `MAX_PAGE_ROWS`, or empty for the default.
pub struct QueryLimit;

fn integer_or_empty(
    integer: utoipa::openapi::schema::ObjectBuilder,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(
            integer
                .schema_type(Type::Integer)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64))),
        )
        .item(ObjectBuilder::new().schema_type(Type::String).max_length(Some(0)))
        .into()
}

impl utoipa::PartialSchema for QueryId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        integer_or_empty(utoipa::openapi::schema::ObjectBuilder::new())
    }
}

impl utoipa::ToSchema for QueryId {}

impl utoipa::PartialSchema for QueryLimit {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        integer_or_empty(
            utoipa::openapi::schema::ObjectBuilder::new().minimum(Some(1)).maximum(Some(MAX_PAGE_ROWS as f64)),
        )
    }
}

impl utoipa::ToSchema for QueryLimit {}
