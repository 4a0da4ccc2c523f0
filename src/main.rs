#[tokio::main]
async fn main() -> std::process::ExitCode {
    ledger::cli::main().await
}
