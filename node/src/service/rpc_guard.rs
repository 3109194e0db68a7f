//! The JSON-RPC middleware every call passes, single or in a batch, over HTTP or WebSocket:
//! operator methods (peers and bans) answer only to requests the doors marked as carrying the
//! cookie token ([`super::doors::OperatorToken`]), and every call is answered within
//! [`RPC_CALL_TIMEOUT`].

use std::future::Future;

use jsonrpsee::core::middleware::{Batch, BatchEntry, Notification, RpcServiceT};
use jsonrpsee::server::{BatchResponseBuilder, MethodResponse};
use jsonrpsee::types::{ErrorObjectOwned, Request};

use super::doors::{OperatorToken, WrongToken};
use super::rpc::codes;
use super::rpc_limits::{MAX_RPC_RESPONSE_BYTES, RPC_CALL_TIMEOUT};

/// Methods that change the node's peers or bans: an eclipse attack's tools. Only the operator
/// (whoever can read `DATA_DIR/.cookie`) may call them.
pub const OPERATOR_METHODS: [&str; 3] = ["net_addPeer", "net_banPeer", "net_unbanPeer"];

/// Methods not cut off by [`RPC_CALL_TIMEOUT`] (see there).
const UNTIMED_METHODS: [&str; 1] = ["dev_mine"];

/// The middleware; one per connection, around jsonrpsee's own service.
#[derive(Clone)]
pub struct RpcGuard<S> {
    inner: S,
}

impl<S> RpcGuard<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> RpcGuard<S> {
        RpcGuard { inner }
    }
}

/// Why an operator method is refused to `request`, if it is.
fn operator_refusal(request: &Request<'_>) -> Option<ErrorObjectOwned> {
    let method = request.method_name();
    if !OPERATOR_METHODS.contains(&method) || request.extensions().get::<OperatorToken>().is_some()
    {
        return None;
    }
    let why = if request.extensions().get::<WrongToken>().is_some() {
        "the bearer token sent is not this node's (the cookie is replaced at every start)"
    } else {
        "no bearer token was sent"
    };
    Some(ErrorObjectOwned::owned(
        codes::UNAUTHORIZED,
        format!(
            "{method} changes the node's peers and needs the node's cookie token: send \
             `Authorization: Bearer <token>` with the token in DATA_DIR/.cookie ({why})"
        ),
        None::<()>,
    ))
}

fn timed_out(method: &str) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        codes::TIMEOUT,
        format!(
            "{method} took longer than {} s and was abandoned",
            RPC_CALL_TIMEOUT.as_secs()
        ),
        None::<()>,
    )
}

impl<S> RpcServiceT for RpcGuard<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Clone
        + Send
        + Sync
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let inner = self.inner.clone();
        async move {
            if let Some(refusal) = operator_refusal(&request) {
                return MethodResponse::error(request.id, refusal);
            }
            let method = request.method_name().to_owned();
            if UNTIMED_METHODS.contains(&method.as_str()) {
                return inner.call(request).await;
            }
            let id = request.id.clone().into_owned();
            match tokio::time::timeout(RPC_CALL_TIMEOUT, inner.call(request)).await {
                Ok(response) => response,
                Err(_) => {
                    tracing::warn!(method = %method, "RPC call timed out");
                    MethodResponse::error(id, timed_out(&method))
                }
            }
        }
    }

    /// Each call of a batch passes [`RpcGuard::call`] (jsonrpsee's own batch handling would
    /// call the inner service directly, past the checks).
    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let this = self.clone();
        async move {
            let mut responses =
                BatchResponseBuilder::new_with_limit(MAX_RPC_RESPONSE_BYTES as usize);
            let mut got_notification = false;
            for entry in batch {
                let response = match entry {
                    Ok(BatchEntry::Call(request)) => this.call(request).await,
                    Ok(BatchEntry::Notification(notification)) => {
                        got_notification = true;
                        this.inner.notification(notification).await;
                        continue;
                    }
                    Err(error) => {
                        let (error, id) = error.into_parts();
                        MethodResponse::error(id, error)
                    }
                };
                if let Err(too_large) = responses.append(response) {
                    return too_large;
                }
            }
            if responses.is_empty() && got_notification {
                MethodResponse::notification()
            } else {
                MethodResponse::from_batch(responses.finish())
            }
        }
    }

    fn notification<'a>(
        &self,
        notification: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.inner.notification(notification)
    }
}
