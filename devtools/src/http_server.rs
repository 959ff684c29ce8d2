//! The HTTP/1.1 accept loop the local emulators share: the Lambda runtime API, the Step Functions
//! API of the Distributed Map runner and the fault-injecting proxy.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use hyper::body::{Body, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Serves every connection `listener` accepts, answering each request with `handle(request,
/// state)`, until the task running it ends: the connections live in its `JoinSet`, which aborts
/// them when dropped. A connection that the client (or a fault) drops ends quietly.
pub(crate) async fn serve<S, H, F, B>(listener: TcpListener, state: Arc<S>, handle: H)
where
    S: Send + Sync + 'static,
    H: Fn(Request<Incoming>, Arc<S>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<B>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
        let state = Arc::clone(&state);
        let handle = handle.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let response = handle(request, Arc::clone(&state));
                async move { Ok::<_, Infallible>(response.await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
