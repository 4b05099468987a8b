//! The HTTP side: hyper on tether, one task per connection in a `TaskSet`.

use std::cell::RefCell;
use std::convert::Infallible;
use std::rc::Rc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use tether::net::TcpListener;

use super::Shared;

/// The page: markup, style and script in one file, in the binary.
const PAGE: &str = include_str!("page.html");

/// At most this many connections are served at once (a browser opens a handful).
const MAX_CONNECTIONS: usize = 64;

/// Accepts connections until the listener fails.
pub async fn accept(listener: TcpListener, shared: Rc<RefCell<Shared>>) -> Result<(), String> {
    let mut connections = tether::TaskSet::background().with_limit(MAX_CONNECTIONS);
    loop {
        let (stream, _peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // A client that gave up before it was accepted concerns that client only.
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                continue;
            }
            Err(error) => return Err(format!("cannot accept a connection: {error}")),
        };
        let shared = shared.clone();
        let connection = async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let response = respond(&shared.borrow(), &request);
                async move { Ok::<_, Infallible>(response) }
            });
            // A client that goes away mid-request is nothing to report.
            let _closed = hyper::server::conn::http1::Builder::new()
                .timer(tether::hyper::Timer)
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(stream, service)
                .await;
        };
        connections.create_task_when_free(connection).await;
    }
}

/// The answer to one request.
fn respond(shared: &Shared, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    if request.method() != Method::GET {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "only GET\n".into(),
        );
    }
    match request.uri().path() {
        "/" | "/index.html" => reply(StatusCode::OK, "text/html; charset=utf-8", PAGE.into()),
        "/snapshot.json" => match &shared.error {
            // The last snapshot is still served; the page shows the error beside it.
            Some(error) => {
                let mut response = reply(StatusCode::OK, "application/json", shared.latest.clone());
                if let Ok(value) =
                    hyper::header::HeaderValue::from_str(&error.replace(['\r', '\n'], " "))
                {
                    response.headers_mut().insert("x-tether-error", value);
                }
                response
            }
            None => reply(StatusCode::OK, "application/json", shared.latest.clone()),
        },
        "/cycles.json" => reply(StatusCode::OK, "application/json", shared.cycles.clone()),
        "/history.json" => reply(StatusCode::OK, "application/json", shared.history.to_json()),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    }
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = hyper::header::HeaderValue::from_str(content_type) {
        headers.insert(hyper::header::CONTENT_TYPE, value);
    }
    // Every answer is live data: never from a cache.
    headers.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-store"),
    );
    response
}
