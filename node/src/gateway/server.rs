//! The gateway's HTTP/1.1 server (hyper, as the metrics endpoint): `GET /v1/info` says which
//! chain and custodian it serves; `POST /v1/records` takes a SCALE-encoded signed request and
//! answers JSON — the release, or `{"error": code, …}` with the error's status. Connections are
//! bounded in time as the metrics endpoint's are.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::handler::{Gateway, GatewayError, MAX_REQUEST_BYTES};
use super::ledger::Ledger;

/// How long a connection may take to send its request head.
const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection may live: the request's disclosure waits for a block (the ledger's
/// inclusion timeout, 60 s by default) and this leaves room beyond it.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(120);

/// Serves `gateway` on `listener` until accepting fails, each connection on its own task.
///
/// # Errors
/// When accepting a connection fails.
pub async fn serve<L: Ledger>(
    listener: TcpListener,
    gateway: Arc<Gateway<L>>,
) -> Result<(), String> {
    loop {
        let (socket, _) = listener.accept().await.map_err(|error| error.to_string())?;
        let gateway = gateway.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let gateway = gateway.clone();
                async move { Ok::<_, Infallible>(respond(request, &gateway).await) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(REQUEST_HEAD_TIMEOUT)
                .keep_alive(false)
                .serve_connection(TokioIo::new(socket), service);
            let _ = tokio::time::timeout(CONNECTION_TIMEOUT, connection).await;
        });
    }
}

async fn respond<L: Ledger>(
    request: Request<Incoming>,
    gateway: &Gateway<L>,
) -> Response<Full<Bytes>> {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/v1/info") => json_response(
            200,
            &json!({
                "chainId": gateway.chain_id(),
                "gateway": gateway.custodian().to_string(),
            }),
        ),
        (&Method::POST, "/v1/records") => {
            let body = match Limited::new(request.into_body(), MAX_REQUEST_BYTES)
                .collect()
                .await
            {
                Ok(collected) => collected.to_bytes(),
                Err(error) => {
                    let error = GatewayError::Malformed(format!("reading the body: {error}"));
                    return json_response(error.status(), &error.body());
                }
            };
            let outcome = gateway.handle(&body, crate::wall_clock_ms()).await;
            match outcome {
                Ok(release) => {
                    tracing::info!(
                        request = %release.request,
                        transaction = %release.transaction,
                        "record released"
                    );
                    json_response(200, &release.body())
                }
                Err(error) => {
                    tracing::info!(error = error.code(), "request refused");
                    json_response(error.status(), &error.body())
                }
            }
        }
        _ => json_response(
            404,
            &json!({
                "error": "not_found",
                "message": "GET /v1/info or POST /v1/records",
            }),
        ),
    }
}

fn json_response(status: u16, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}
