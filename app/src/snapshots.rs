//! The snapshots of every aggregate type: checked against the events (`ledger audit`) and
//! recreated from them (`ledger snapshots --rebuild`).

use deadpool_postgres::Pool;
use domain::snapshot::Snapshotted;
use store::snapshot::SnapshotCheck;

use crate::error::AppError;

/// Called with (done so far, to do in all).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Runs `$body` once for each aggregate type, as the type `$aggregate`.
macro_rules! for_each_aggregate_type {
    ($aggregate:ident => $body:block) => {{
        {
            type $aggregate = domain::account::Account;
            $body
        }
        {
            type $aggregate = domain::asset::Asset;
            $body
        }
        {
            type $aggregate = domain::user::User;
            $body
        }
        {
            type $aggregate = domain::claim::UniqueClaim;
            $body
        }
        {
            type $aggregate = domain::gradido::GradidoTransaction;
            $body
        }
        {
            type $aggregate = domain::gradido::CreationBudget;
            $body
        }
        {
            type $aggregate = domain::gradido::DuplicateGuard;
            $body
        }
        {
            type $aggregate = domain::gradido::Group;
            $body
        }
        {
            type $aggregate = domain::lightning::Invoice;
            $body
        }
        {
            type $aggregate = domain::lightning::AddressBook;
            $body
        }
        {
            type $aggregate = domain::lightning::Channel;
            $body
        }
        {
            type $aggregate = domain::joyplus::JoyWallet;
            $body
        }
        {
            type $aggregate = domain::joyplus::ApiKey;
            $body
        }
    }};
}

/// Every stored snapshot compared with the fold of its aggregate's events, by type.
pub async fn check_all(pool: &Pool, progress: Progress<'_>) -> Result<Vec<SnapshotCheck>, AppError> {
    let client = pool.get().await?;
    let mut total = 0;
    for_each_aggregate_type!(Aggregate => {
        total += store::snapshot::count(&client, <Aggregate as cqrs_es::Aggregate>::TYPE).await?;
    });
    let mut done = 0;
    let mut checks = Vec::new();
    for_each_aggregate_type!(Aggregate => {
        let mut on_checked = || {
            done += 1;
            progress(done, total.max(done));
        };
        checks.push(store::snapshot::check::<Aggregate>(&client, Aggregate::STATE_VERSION, &mut on_checked).await?);
    });
    Ok(checks)
}

/// Replaces every snapshot by one folded from the events; returns how many it saved.
pub async fn rebuild_all(pool: &Pool, progress: Progress<'_>) -> Result<u64, AppError> {
    let client = pool.get().await?;
    let (mut done, mut total, mut saved) = (0, 0, 0);
    for_each_aggregate_type!(Aggregate => {
        let mut on_total = |more: u64| total += more;
        let mut on_folded = || {
            done += 1;
        };
        saved += store::snapshot::rebuild::<Aggregate>(&client, Aggregate::STATE_VERSION, &mut on_total, &mut on_folded).await?;
        progress(done, total.max(done));
    });
    Ok(saved)
}

#[cfg(test)]
mod tests {
    /// A type missing here would go unchecked by the audit and without snapshots after a
    /// rebuild.
    #[test]
    fn every_aggregate_type_of_the_domain_is_listed_once() {
        let mut listed: Vec<&str> = Vec::new();
        for_each_aggregate_type!(Aggregate => {
            listed.push(<Aggregate as cqrs_es::Aggregate>::TYPE);
        });
        let mut domain_types = domain::snapshot::AGGREGATE_TYPES.to_vec();
        domain_types.sort_unstable();
        listed.sort_unstable();
        assert_eq!(listed, domain_types);
    }
}
