//! TLS on tether streams, natively: tokio-rustls (rustls with ring) over `tether::net`
//! streams, a self-signed certificate made at test time with rcgen, an HTTPS server (hyper on
//! tether) and a client that checks the certificate.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tether::TaskSet;
use tether::net::{TcpListener, TcpStream};
use tether_ecosystem::no_fd_leaked;
use tokio_rustls::rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// A certificate for `localhost`, the server's configuration, and a client that trusts it.
fn configs() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
    // ring, not rustls' default aws-lc-rs, to keep a C toolchain's build of aws-lc out of this
    // test; rustls now marks ring's provider deprecated for want of post-quantum key exchange,
    // which a test between two ends on one machine does not need. The provider is orthogonal
    // to what is tested: TLS records over tether's streams.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let mut server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

#[test]
fn an_https_server_and_client_on_tether() {
    no_fd_leaked(|| {
        tether::run(async {
            let (server_config, client_config) = configs();
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let acceptor = TlsAcceptor::from(server_config);
            let server = tether::create_task(async move {
                let mut connections = TaskSet::new();
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    let acceptor = acceptor.clone();
                    connections.create_task(async move {
                        // A failed handshake (the untrusting client below) ends this connection
                        // only.
                        let Ok(tls) = acceptor.accept(stream).await else {
                            return;
                        };
                        let hello = hyper::service::service_fn(
                            |request: Request<hyper::body::Incoming>| async move {
                                let reply = format!("secure {}", request.uri().path());
                                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(reply))))
                            },
                        );
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(tls), hello)
                            .await;
                    });
                }
            });

            let connector = TlsConnector::from(client_config);
            let stream = TcpStream::connect(addr).await.unwrap();
            let tls = connector
                .connect(ServerName::try_from("localhost").unwrap(), stream)
                .await
                .unwrap();
            assert_eq!(tls.get_ref().1.alpn_protocol(), None);
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                .await
                .unwrap();
            let connection = tether::create_task(connection);
            for path in ["/a", "/b", "/c"] {
                let request = Request::get(path)
                    .header("host", "localhost")
                    .body(http_body_util::Empty::<Bytes>::new())
                    .unwrap();
                let response = sender.send_request(request).await.unwrap();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(body, format!("secure {path}"));
            }
            drop(sender);
            connection.await.unwrap().unwrap();

            // A client that does not trust the certificate gets rustls's own error.
            let (_, stranger) = configs();
            let stream = TcpStream::connect(addr).await.unwrap();
            let error = TlsConnector::from(stranger)
                .connect(ServerName::try_from("localhost").unwrap(), stream)
                .await
                .unwrap_err();
            assert!(error.to_string().contains("certificate"), "{error}");
            drop(server);
        });
    });
}
