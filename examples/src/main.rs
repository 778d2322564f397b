//! `pulso-shop`: serves the demo shop.
//! Usage: pulso-shop [--listen 127.0.0.1:8000] [--collector http://127.0.0.1:8080]

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut listen = String::from("127.0.0.1:8000");
    let mut collector = String::from("http://127.0.0.1:8080");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--listen" => listen = value,
            "--collector" => collector = value,
            _ => return Err(format!("unknown option {arg}").into()),
        }
    }
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("pulso-shop listening on http://{}", listener.local_addr()?);
    axum::serve(listener, examples::shop(&collector))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
