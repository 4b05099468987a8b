//! SQLite, embedded, with sqlx: its `runtime-tokio` pool and worker need tokio's runtime, so it
//! runs through the bridge: per call (`tether::compat::tokio`) or runtime-wide
//! (`Builder::tokio`, which `#[tether::test(tokio)]` also sets).

use sqlx::Row;
use sqlx::sqlite::SqlitePoolOptions;
use tether_ecosystem::{no_fd_leaked, server, threads_gone};

/// Linux keeps 15 bytes of a thread's name: sqlx's `sqlx-sqlite-worker-N`.
const SQLX_WORKER: &str = "sqlx-sqlite-wor";

#[test]
fn a_database_file_through_the_bridge() {
    no_fd_leaked(|| {
        tether::run(async {
            let path = std::path::Path::new(&server("TETHER_ECO_TMP")).join("tether.sqlite");
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let total = tether::compat::tokio(async move {
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect(&url)
                    .await?;
                sqlx::query("CREATE TABLE IF NOT EXISTS numbers (n INTEGER NOT NULL)")
                    .execute(&pool)
                    .await?;
                let mut transaction = pool.begin().await?;
                for n in 0..1_000i64 {
                    sqlx::query("INSERT INTO numbers (n) VALUES (?)")
                        .bind(n)
                        .execute(&mut *transaction)
                        .await?;
                }
                transaction.commit().await?;
                let row = sqlx::query("SELECT count(*), sum(n) FROM numbers")
                    .fetch_one(&pool)
                    .await?;
                let counted: (i64, i64) = (row.get(0), row.get(1));
                // A syntax error is sqlx's own error.
                let error = sqlx::query("SELEKT 1").execute(&pool).await.unwrap_err();
                assert!(error.to_string().contains("syntax error"), "{error}");
                pool.close().await;
                Ok::<_, sqlx::Error>(counted)
            })
            .await
            .unwrap();
            assert_eq!(total, (1_000, (0..1_000i64).sum()));
            std::fs::remove_file(path).unwrap();
        });
        threads_gone(SQLX_WORKER);
    });
}

// A plain `#[test]` that builds the runtime itself, not `#[tether::test(tokio)]`: the bridge's
// threads and descriptors would otherwise open while the test above counts its own.
#[test]
fn in_memory_with_the_runtime_wide_switch() {
    no_fd_leaked(|| {
        tether::Runtime::builder().tokio(true).build().run(async {
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect("sqlite::memory:")
                .await
                .unwrap();
            let row = sqlx::query("SELECT 6 * 7").fetch_one(&pool).await.unwrap();
            assert_eq!(row.get::<i64, _>(0), 42);
            pool.close().await;
        });
        threads_gone(SQLX_WORKER);
    });
}
