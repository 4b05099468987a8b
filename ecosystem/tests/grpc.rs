//! gRPC on tether with tonic, without tonic's `transport` (which needs tokio's runtime): a
//! service served by hyper's HTTP/2 server on tether, and tonic's client over hyper's HTTP/2
//! client connection on a tether stream. Message types written with prost's derive (no
//! protoc); the service and client written against tonic's `server::Grpc` and
//! `client::Grpc`, as tonic's generated code does.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::uri::PathAndQuery;
use tether::TaskSet;
use tether::net::{TcpListener, TcpStream};
use tether_ecosystem::no_fd_leaked;
use tonic::{Code, Request, Response, Status};
use tonic_prost::ProstCodec;

#[derive(Clone, PartialEq, prost::Message)]
struct SayRequest {
    #[prost(string, tag = "1")]
    name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SayReply {
    #[prost(string, tag = "1")]
    message: String,
}

const SAY: &str = "/tether.Greeter/Say";

/// The service's one method.
struct Say;

impl tonic::server::UnaryService<SayRequest> for Say {
    type Response = SayReply;
    type Future = std::future::Ready<Result<Response<SayReply>, Status>>;

    fn call(&mut self, request: Request<SayRequest>) -> Self::Future {
        let name = request.into_inner().name;
        std::future::ready(if name.is_empty() {
            Err(Status::invalid_argument("a name, please"))
        } else {
            Ok(Response::new(SayReply {
                message: format!("hello, {name}"),
            }))
        })
    }
}

/// The router a generated server would be: one path per method.
async fn route(
    request: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<tonic::body::Body>, Infallible> {
    Ok(match request.uri().path() {
        SAY => {
            let mut grpc = tonic::server::Grpc::new(ProstCodec::<SayReply, SayRequest>::default());
            grpc.unary(Say, request).await
        }
        _ => Status::unimplemented("no such method").into_http(),
    })
}

/// hyper's HTTP/2 client connection as the tower `Service` tonic's client sends through.
struct Channel(hyper::client::conn::http2::SendRequest<tonic::body::Body>);

impl tower_service::Service<http::Request<tonic::body::Body>> for Channel {
    type Response = http::Response<hyper::body::Incoming>;
    type Error = hyper::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, hyper::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), hyper::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<tonic::body::Body>) -> Self::Future {
        // HTTP/2 wants the scheme and authority that tonic's transport would add.
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", PathAndQuery::as_str);
        *request.uri_mut() = format!("http://localhost{path}").parse().unwrap();
        Box::pin(self.0.send_request(request))
    }
}

#[test]
fn a_tonic_service_and_client_on_tether() {
    no_fd_leaked(|| {
        tether::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tether::create_task(async move {
                let mut connections = TaskSet::new();
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    connections.create_task(async move {
                        let _ = hyper::server::conn::http2::Builder::new(
                            tether::hyper::Executor::new(),
                        )
                        .timer(tether::hyper::Timer)
                        .serve_connection(stream, hyper::service::service_fn(route))
                        .await;
                    });
                }
            });

            let stream = TcpStream::connect(addr).await.unwrap();
            let (sender, connection) =
                hyper::client::conn::http2::handshake(tether::hyper::Executor::new(), stream)
                    .await
                    .unwrap();
            let connection = tether::create_task(connection);
            let mut client = tonic::client::Grpc::new(Channel(sender));
            for name in ["ada", "grace", "barbara"] {
                client.ready().await.unwrap();
                let reply = client
                    .unary(
                        Request::new(SayRequest { name: name.into() }),
                        PathAndQuery::from_static(SAY),
                        ProstCodec::<SayRequest, SayReply>::default(),
                    )
                    .await
                    .unwrap();
                assert_eq!(reply.into_inner().message, format!("hello, {name}"));
            }
            // The service's error, and an unknown method, arrive as statuses.
            client.ready().await.unwrap();
            let status = client
                .unary(
                    Request::new(SayRequest {
                        name: String::new(),
                    }),
                    PathAndQuery::from_static(SAY),
                    ProstCodec::<SayRequest, SayReply>::default(),
                )
                .await
                .unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument);
            assert_eq!(status.message(), "a name, please");
            client.ready().await.unwrap();
            let status = client
                .unary(
                    Request::new(SayRequest { name: "x".into() }),
                    PathAndQuery::from_static("/tether.Greeter/Shout"),
                    ProstCodec::<SayRequest, SayReply>::default(),
                )
                .await
                .unwrap_err();
            assert_eq!(status.code(), Code::Unimplemented);
            drop(client);
            connection.await.unwrap().unwrap();
            drop(server);
        });
    });
}
