/// glibc's allocator took about a quarter of the HTTP workers' CPU under load (perf, ADR 23).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ledger::cli::main().await
}
