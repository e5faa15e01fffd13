//! HTTPS for the LAN (issue 13): `tls = "on"` on 127.0.0.1 (tests talk to loopback only) serves
//! the API over rustls with a self-signed certificate made once in the state folder; a client
//! that trusts exactly that certificate gets in, plain HTTP does not, the session cookie is
//! `Secure`, `/status` shows the fingerprint, and shutdown still ends live event streams.

mod common;

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde_json::{json, Value};

use common::lib::{prepare_tls, tls_enabled, TlsMode, WebSettings, SELF_SIGNED_CERT};
use common::{https_trusting, Station, PIN};

/// The certificate in a PEM file, and its SHA-256 as browsers show it, computed here.
fn read_cert(path: &Path) -> (CertificateDer<'static>, String) {
    let der = CertificateDer::from_pem_file(path).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, &der);
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    (der, hex.join(":"))
}

#[tokio::test]
async fn https_on_loopback_with_the_generated_certificate() {
    let st = Station::builder().https().start().await;
    let addr = st.addr();
    let base = st.base.clone();
    assert_eq!(base, format!("https://{addr}/api/v1"));
    let (cert_file, key_file) = st.tls_files();
    assert_eq!(
        cert_file,
        st.dir.join(SELF_SIGNED_CERT),
        "self-signed, in the state folder"
    );
    // The daemon makes the certificate as it starts; wait until it is there and whole.
    let (_, fingerprint) = common::eventually(Duration::from_secs(20), "the certificate", || {
        let cert = CertificateDer::from_pem_file(&cert_file)
            .ok()
            .map(|_| read_cert(&cert_file));
        async move { cert }
    })
    .await;
    use std::os::unix::fs::PermissionsExt;
    let key_mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        key_mode, 0o600,
        "the private key is the service user's only"
    );

    // A client that trusts exactly that certificate.
    let https = https_trusting(&cert_file);
    let resp = https.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // A client that trusts another certificate (made the same way elsewhere) refuses this one.
    let stranger = https_trusting(&own_cert(&st.dir));
    assert!(stranger
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_err());

    // Plain HTTP to the HTTPS port gets no API answer.
    match common::http()
        .get(format!("http://{addr}/api/v1/healthz"))
        .send()
        .await
    {
        Err(_) => {}
        Ok(resp) => {
            assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
            assert!(resp.text().await.unwrap().contains("https://"));
        }
    }

    // Login over HTTPS: the cookie is Secure.
    let resp = https
        .post(format!("{base}/session"))
        .json(&json!({ "pin": PIN }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_string();

    // /status shows the fingerprint IT compares with the tablets.
    let status: Value = https
        .get(format!("{base}/status"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["tls"]["fingerprint_sha256"], fingerprint, "{status}");

    // The page's own origin is https now; the http one is another origin.
    for (origin, expected) in [
        (format!("https://{addr}"), StatusCode::CREATED),
        (format!("http://{addr}"), StatusCode::FORBIDDEN),
    ] {
        let resp = https
            .post(format!("{base}/batches"))
            .header("cookie", &cookie)
            .header("origin", &origin)
            .json(&json!({"project_id": "P1", "service_code": "484"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), expected, "{origin}");
    }

    // SIGTERM-like shutdown with a live event stream over HTTPS: the stream ends, the server stops.
    let events = https.get(format!("{base}/events")).send().await.unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    st.stop().await;
    let rest = tokio::time::timeout(Duration::from_secs(10), events.bytes())
        .await
        .expect("the event stream ends at shutdown");
    drop(rest);
}

/// A certificate unrelated to the station's, made with the same code in another folder.
fn own_cert(station_dir: &Path) -> std::path::PathBuf {
    let other = station_dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let web = WebSettings {
        tls: TlsMode::On,
        ..WebSettings::default()
    };
    prepare_tls(&web, &other).expect("tls = on serves HTTPS");
    other.join(SELF_SIGNED_CERT)
}

#[test]
fn the_self_signed_certificate_is_made_once_and_a_configured_one_is_used_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let web = WebSettings {
        listen: "192.168.1.20:8443".parse().unwrap(),
        ..WebSettings::default()
    };
    assert!(tls_enabled(&web), "auto: HTTPS on a LAN address");
    let first = prepare_tls(&web, dir.path()).unwrap();
    let again = prepare_tls(&web, dir.path()).unwrap();
    assert_eq!(
        first.fingerprint_sha256, again.fingerprint_sha256,
        "kept across restarts"
    );
    assert!(first.self_signed);
    assert_eq!(
        read_cert(&dir.path().join(SELF_SIGNED_CERT)).1,
        first.fingerprint_sha256
    );

    // IT's own certificate and key (PEM).
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["scan.agency.org".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_file, key_file) = (dir.path().join("it.crt"), dir.path().join("it.key"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let web = WebSettings {
        tls_cert: Some(cert_file.clone()),
        tls_key: Some(key_file.clone()),
        ..web
    };
    let info = prepare_tls(&web, dir.path()).unwrap();
    assert!(!info.self_signed);
    assert_eq!(info.fingerprint_sha256, read_cert(&cert_file).1);

    // A loopback listen stays plain HTTP by default (the kiosk).
    assert!(prepare_tls(&WebSettings::default(), dir.path()).is_none());
}
