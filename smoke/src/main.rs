//! `smoke --local URL` or `smoke --outputs FILE` (what `aws cloudformation
//! describe-stacks --query 'Stacks[0].Outputs'` prints): see the crate's docs.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match smoke::cli::run(&args).await {
        Ok(report) => {
            print!("{}", report.table());
            if report.passed() { 0.into() } else { 1.into() }
        }
        Err(e) => {
            eprintln!("smoke: {e}");
            2.into()
        }
    }
}
