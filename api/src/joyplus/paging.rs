//! Lists: `limit` (default 100, at most 500) and `cursor` (the last id of the previous page;
//! rows come in ascending id order). A full page answers with `nextCursor`.

use serde::Deserialize;

use super::wire::JoyError;

pub const DEFAULT_PAGE_ROWS: i64 = 100;
pub const MAX_PAGE_ROWS: i64 = 500;

/// Strings, so the query can be flattened into each list's filters.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub after_id: i64,
}

impl Page {
    pub fn from_query(query: &PageQuery) -> Result<Self, JoyError> {
        let limit = match query.limit.as_deref() {
            None | Some("") => DEFAULT_PAGE_ROWS,
            Some(text) => text.parse().ok().filter(|limit| (1..=MAX_PAGE_ROWS).contains(limit)).ok_or_else(|| {
                JoyError::bad_request(format!("limit must be 1 to {MAX_PAGE_ROWS}"))
            })?,
        };
        let after_id = match query.cursor.as_deref() {
            None | Some("") => 0,
            Some(cursor) => cursor.parse().map_err(|_| JoyError::bad_request("cursor is not valid"))?,
        };
        Ok(Self { limit, after_id })
    }

    /// The cursor of the next page when this one came back full.
    pub fn next_cursor(&self, rows: usize, last_id: Option<i64>) -> Option<i64> {
        if i64::try_from(rows).ok() == Some(self.limit) {
            last_id
        } else {
            None
        }
    }
}

/// An id from the URL: digits only, else 404 (as for any id that names nothing).
pub fn path_id(text: &str, what: &str) -> Result<i64, JoyError> {
    text.parse().ok().filter(|id: &i64| *id > 0).ok_or_else(|| JoyError::not_found(what))
}
