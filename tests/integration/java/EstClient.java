// EstClient: drives idra's EST server with BouncyCastle's EST client
// (org.bouncycastle.est, Debian's libbcpkix-java), for
// tests/integration/test_est_bouncycastle.py.
//
//   java EstClient SERVER CAFILE cacerts
//   java EstClient SERVER CAFILE csrattrs
//   java EstClient SERVER CAFILE enroll IDENTIFIER TOKEN OUTDIR
//   java EstClient SERVER CAFILE enroll-httpauth IDENTIFIER TOKEN OUTDIR
//   java EstClient SERVER CAFILE reenroll CERTPEM KEYPEM OUTDIR
//
// SERVER is "127.0.0.1:PORT"; CAFILE holds the trust anchor(s) the server's
// chain must lead to. The server's name is verified (BC's
// JsseDefaultHostnameAuthorizer matches 127.0.0.1 against the IP SANs).
// enroll and reenroll write OUTDIR/cert.pem and OUTDIR/key.pem (PKCS#8) and
// print "serial HEX". Any failure prints "error: ..." (with the HTTP status
// when there was one) on stderr and exits 1.
import java.io.FileReader;
import java.io.FileWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Security;
import java.security.cert.CertificateFactory;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.X509TrustManager;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.est.CACertsResponse;
import org.bouncycastle.est.CSRRequestResponse;
import org.bouncycastle.est.ESTAuth;
import org.bouncycastle.est.ESTRequestBuilder;
import org.bouncycastle.est.ESTResponse;
import org.bouncycastle.est.ESTException;
import org.bouncycastle.est.ESTService;
import org.bouncycastle.est.EnrollmentResponse;
import org.bouncycastle.est.HttpAuth;
import org.bouncycastle.est.jcajce.JcaJceUtils;
import org.bouncycastle.est.jcajce.JsseDefaultHostnameAuthorizer;
import org.bouncycastle.est.jcajce.JsseESTServiceBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

public final class EstClient {
  private EstClient() {}

  private static boolean stockHttpAuth = false;

  public static void main(String[] args) {
    if (args.length < 3) {
      System.err.println("usage: EstClient SERVER CAFILE cacerts|csrattrs|enroll ID TOKEN OUTDIR|reenroll CERT KEY OUTDIR");
      System.exit(2);
    }
    Security.addProvider(new BouncyCastleProvider());
    try {
      String server = args[0];
      List<X509Certificate> anchors = readCertificates(Paths.get(args[1]));
      switch (args[2]) {
        case "cacerts":
          cacerts(service(server, anchors, null));
          break;
        case "csrattrs":
          csrattrs(service(server, anchors, null));
          break;
        case "enroll":
        case "enroll-httpauth":
          need(args, 6);
          stockHttpAuth = args[2].equals("enroll-httpauth");
          enroll(service(server, anchors, null), args[3], args[4], Paths.get(args[5]));
          break;
        case "reenroll":
          need(args, 6);
          reenroll(server, anchors, Paths.get(args[3]), Paths.get(args[4]), Paths.get(args[5]));
          break;
        default:
          System.err.println("error: unknown command " + args[2]);
          System.exit(2);
      }
    } catch (ESTException e) {
      System.err.println("error: HTTP status " + e.getStatusCode() + ": " + e.getMessage() + body(e));
      System.exit(1);
    } catch (Exception e) {
      System.err.println("error: " + e);
      for (Throwable c = e.getCause(); c != null; c = c.getCause()) System.err.println("  caused by: " + c);
      System.exit(1);
    }
  }

  private static void need(String[] args, int n) {
    if (args.length != n) {
      System.err.println("error: " + args[2] + " takes " + (n - 3) + " arguments");
      System.exit(2);
    }
  }

  // The response body of a failed request, if BC kept it.
  private static String body(ESTException e) {
    try (InputStream in = e.getBody()) {
      if (in == null) return "";
      byte[] b = in.readNBytes(4096);
      return b.length == 0 ? "" : " body: " + new String(b, StandardCharsets.UTF_8);
    } catch (Exception ignored) {
      return "";
    }
  }

  // -- set-up ---------------------------------------------------------------
  private static ESTService service(String server, List<X509Certificate> anchors, KeyManagerFactory keys) {
    Set<TrustAnchor> set = new HashSet<>();
    for (X509Certificate c : anchors) set.add(new TrustAnchor(c, null));
    X509TrustManager[] trust = JcaJceUtils.getCertPathTrustManager(set, null);
    JsseESTServiceBuilder b = new JsseESTServiceBuilder(server, trust);
    // Matches the connected host ("127.0.0.1") against the DNS and IP SANs.
    b.withHostNameAuthorizer(new JsseDefaultHostnameAuthorizer(null));
    b.withTimeout(30000);
    if (keys != null) b.withKeyManagers(keys.getKeyManagers());
    return b.build();
  }

  private static List<X509Certificate> readCertificates(Path file) throws Exception {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    List<X509Certificate> out = new ArrayList<>();
    try (InputStream in = Files.newInputStream(file)) {
      for (java.security.cert.Certificate c : cf.generateCertificates(in)) out.add((X509Certificate) c);
    }
    if (out.isEmpty()) throw new IOException("no certificate in " + file);
    return out;
  }

  private static PrivateKey readKey(Path file) throws Exception {
    try (Reader r = new FileReader(file.toFile(), StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
      Object o = p.readObject();
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair) return conv.getKeyPair((PEMKeyPair) o).getPrivate();
      if (o instanceof PrivateKeyInfo) return conv.getPrivateKey((PrivateKeyInfo) o);
      throw new IOException("no unencrypted private key in " + file);
    }
  }

  private static KeyPair newKeyPair() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
    return g.generateKeyPair();
  }

  private static PKCS10CertificationRequest csr(X500Name subject, KeyPair kp) throws Exception {
    ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate());
    return new JcaPKCS10CertificationRequestBuilder(subject, kp.getPublic()).build(signer);
  }

  // -- commands -------------------------------------------------------------
  private static void cacerts(ESTService est) throws Exception {
    CACertsResponse r = est.getCACerts();
    if (!r.hasCertificates()) throw new IOException("cacerts: no certificates");
    X509CertificateHolder[] certs = ESTService.storeToArray(r.getCertificateStore());
    System.out.println("certificates " + certs.length);
    for (X509CertificateHolder c : certs) System.out.println("subject " + c.getSubject());
  }

  private static void csrattrs(ESTService est) throws Exception {
    CSRRequestResponse r = est.getCSRAttributes();
    if (!r.hasAttributesResponse()) throw new IOException("csrattrs: no attributes");
    for (ASN1ObjectIdentifier oid : r.getAttributesResponse().getRequirements()) {
      System.out.println("oid " + oid.getId());
    }
  }

  private static void enroll(ESTService est, String identifier, String token, Path outDir) throws Exception {
    KeyPair kp = newKeyPair();
    // A CN holding '/' needs no escaping here: X500NameBuilder takes the value as is.
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, identifier).build();
    ESTAuth auth = stockHttpAuth
        ? new HttpAuth(null, identifier, token.toCharArray(), new SecureRandom(),
                       new JcaDigestCalculatorProviderBuilder().build())
        : new ChallengeBasicAuth(identifier, token);
    EnrollmentResponse r = est.simpleEnroll(false, csr(subject, kp), auth);
    save(r, kp, outDir);
  }

  // ChallengeBasicAuth answers the server's 401 challenge (WWW-Authenticate:
  // Basic) by repeating the request with the identifier and token, exactly
  // as BouncyCastle's HttpAuth does, except that it reads the 401's body
  // before closing the response. HttpAuth 1.72 closes it unread, and
  // ESTResponse.close() then throws "Stream closed before limit fully read"
  // for any 401 that carries a body (idra's carries a JSON message), so
  // stock HttpAuth only works against servers that send an empty 401 (see
  // bcgit/bc-java issues 781 and 1185). "enroll-httpauth" uses HttpAuth as is.
  static final class ChallengeBasicAuth implements ESTAuth {
    private final String user;
    private final String password;

    ChallengeBasicAuth(String user, String password) {
      if (user.contains(":")) throw new IllegalArgumentException("a Basic user name cannot hold ':'");
      this.user = user;
      this.password = password;
    }

    @Override
    public void applyAuth(ESTRequestBuilder builder) {
      builder.withHijacker((request, source) -> {
        ESTResponse res = new ESTResponse(request, source);
        if (res.getStatusCode() != 401) return res;
        String challenge = res.getHeader("WWW-Authenticate");
        if (challenge == null || !challenge.trim().toLowerCase(java.util.Locale.ROOT).startsWith("basic")) {
          return res;
        }
        Long length = res.getContentLength();
        if (length != null && length > 0) res.getInputStream().readNBytes((int) Math.min(length, 65536));
        res.close();
        String credentials = java.util.Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        ESTRequestBuilder retry = new ESTRequestBuilder(request).withHijacker(null);
        retry.setHeader("Authorization", "Basic " + credentials);
        return request.getClient().doRequest(retry.build());
      });
    }
  }

  private static void reenroll(String server, List<X509Certificate> anchors, Path certFile, Path keyFile,
                               Path outDir) throws Exception {
    List<X509Certificate> chain = readCertificates(certFile);
    PrivateKey key = readKey(keyFile);
    char[] pass = "idra-test".toCharArray();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("client", key, pass, chain.toArray(new X509Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, pass);
    ESTService est = service(server, anchors, kmf);
    // RFC 7030 4.2.2: the same subject as the certificate being renewed; a new key.
    X500Name subject = X500Name.getInstance(chain.get(0).getSubjectX500Principal().getEncoded());
    KeyPair kp = newKeyPair();
    EnrollmentResponse r = est.simpleEnroll(true, csr(subject, kp), null);
    save(r, kp, outDir);
  }

  private static void save(EnrollmentResponse r, KeyPair kp, Path outDir) throws Exception {
    if (!r.isCompleted()) throw new IOException("enrollment not completed (retry-after " + r.getNotBefore() + ")");
    X509CertificateHolder[] certs = ESTService.storeToArray(r.getStore());
    if (certs.length != 1) throw new IOException("expected one certificate, got " + certs.length);
    X509Certificate cert = new JcaX509CertificateConverter().getCertificate(certs[0]);
    cert.checkValidity();
    if (!java.util.Arrays.equals(cert.getPublicKey().getEncoded(), kp.getPublic().getEncoded())) {
      throw new IOException("the certificate is not for the key in the CSR");
    }
    Files.createDirectories(outDir);
    try (JcaPEMWriter w = new JcaPEMWriter(new FileWriter(outDir.resolve("cert.pem").toFile(), StandardCharsets.US_ASCII))) {
      w.writeObject(cert);
    }
    try (JcaPEMWriter w = new JcaPEMWriter(new FileWriter(outDir.resolve("key.pem").toFile(), StandardCharsets.US_ASCII))) {
      w.writeObject(new JcaPKCS8Generator(kp.getPrivate(), null));
    }
    BigInteger serial = cert.getSerialNumber();
    System.out.println("serial " + serial.toString(16).toUpperCase());
    System.out.println("subject " + certs[0].getSubject());
  }
}
