/// glibc's allocator spent about a tenth of the server's CPU under load (perf, ADR 23).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ledger::cli::main().await
}
