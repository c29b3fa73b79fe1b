# Guards a cache started from its issuer (issue 15, items 1 and 2): OpenID
# Connect Discovery against a real issuer on 127.0.0.1 over HTTPS (test CA,
# `localhost`), the RFC 8414 fallback, documents refused for naming another
# issuer, an http:// jwks_uri or their size, a key set that outlives a failing
# re-read, and the `iss` check a cache that knows its issuer makes by default
# (which must also hold through the token cache). Documents are written as
# Keycloak, Auth0 and panva's oidc-provider publish them; tokens are signed by
# OTP's :public_key.
defmodule JwksVerify.DiscoveryTest do
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog
  import JwksVerify.CacheTestHelpers

  alias :jwks_verify_cache_discovery, as: Discovery
  alias JwksVerify.Cache
  alias JwksVerify.TestServer

  @moduletag :capture_log

  @openid "/.well-known/openid-configuration"
  @oauth "/.well-known/oauth-authorization-server"

  setup_all do
    dir = Path.join(System.tmp_dir!(), "jwks_verify_disc_#{System.unique_integer([:positive])}")
    on_exit(fn -> File.rm_rf!(dir) end)
    %{a: key("key-a"), b: key("key-b", :es256), certs: make_certs(dir)}
  end

  # An HTTPS issuer on localhost answering 404 but on the routes given.
  defp issuer_server(ctx, routes) do
    s = TestServer.start(tls: ctx.certs.localhost)
    on_exit(fn -> TestServer.stop(s) end)
    TestServer.set(s, mode: {:status, 404}, routes: routes)
    s
  end

  defp base(s), do: "https://localhost:#{s.port}"

  defp route(body, extra \\ []), do: [mode: :ok, jwks: body] ++ extra

  defp cache(ctx, opts) do
    name = :"disc_cache_#{System.unique_integer([:positive])}"
    opts = [ssl: [cacerts: [ctx.certs.ca_der]], await_first_fetch: 5_000] ++ opts
    start_supervised!({Cache, [name: name] ++ opts})
    name
  end

  defp paths(s), do: Enum.map(TestServer.requests(s), & &1.path)

  defp tok(key, iss, extra \\ %{}), do: token(key, claims(Map.put(extra, "iss", iss)))

  # As a Keycloak realm publishes it (abridged; nested object and booleans kept).
  defp keycloak_metadata(issuer, jwks_uri) do
    """
    {"issuer":"#{issuer}","authorization_endpoint":"#{issuer}/protocol/openid-connect/auth",
     "token_endpoint":"#{issuer}/protocol/openid-connect/token",
     "introspection_endpoint":"#{issuer}/protocol/openid-connect/token/introspect",
     "userinfo_endpoint":"#{issuer}/protocol/openid-connect/userinfo",
     "end_session_endpoint":"#{issuer}/protocol/openid-connect/logout",
     "frontchannel_logout_session_supported":true,"frontchannel_logout_supported":true,
     "jwks_uri":"#{jwks_uri}",
     "check_session_iframe":"#{issuer}/protocol/openid-connect/login-status-iframe.html",
     "grant_types_supported":["authorization_code","implicit","refresh_token","password",
       "client_credentials","urn:ietf:params:oauth:grant-type:device_code"],
     "acr_values_supported":["0","1"],
     "response_types_supported":["code","none","id_token","token","id_token token",
       "code id_token","code token","code id_token token"],
     "subject_types_supported":["public","pairwise"],
     "id_token_signing_alg_values_supported":["PS384","ES384","RS384","HS256","HS512","ES256",
       "RS256","HS384","ES512","PS256","PS512","RS512"],
     "id_token_encryption_alg_values_supported":["RSA-OAEP","RSA-OAEP-256","RSA1_5"],
     "userinfo_signing_alg_values_supported":["PS384","ES384","RS384","HS256","HS512","ES256",
       "RS256","HS384","ES512","PS256","PS512","RS512","none"],
     "response_modes_supported":["query","fragment","form_post","query.jwt","fragment.jwt",
       "form_post.jwt","jwt"],
     "registration_endpoint":"#{issuer}/clients-registrations/openid-connect",
     "token_endpoint_auth_methods_supported":["private_key_jwt","client_secret_basic",
       "client_secret_post","tls_client_auth","client_secret_jwt"],
     "claims_supported":["aud","sub","iss","auth_time","name","given_name","family_name",
       "preferred_username","email","acr"],
     "claim_types_supported":["normal"],"claims_parameter_supported":true,
     "scopes_supported":["openid","phone","address","roles","web-origins","email","profile",
       "offline_access","microprofile-jwt","acr"],
     "request_parameter_supported":true,"request_uri_parameter_supported":true,
     "require_request_uri_registration":true,"code_challenge_methods_supported":["plain","S256"],
     "tls_client_certificate_bound_access_tokens":true,
     "mtls_endpoint_aliases":{"token_endpoint":"#{issuer}/protocol/openid-connect/token",
       "revocation_endpoint":"#{issuer}/protocol/openid-connect/revoke"},
     "authorization_response_iss_parameter_supported":true}
    """
  end

  # As Auth0 publishes it (abridged): the issuer ends in "/".
  defp auth0_metadata(issuer, jwks_uri) do
    ~s({"issuer":"#{issuer}","authorization_endpoint":"#{issuer}authorize",) <>
      ~s("token_endpoint":"#{issuer}oauth/token","device_authorization_endpoint":) <>
      ~s("#{issuer}oauth/device/code","userinfo_endpoint":"#{issuer}userinfo",) <>
      ~s("mfa_challenge_endpoint":"#{issuer}mfa/challenge","jwks_uri":"#{jwks_uri}",) <>
      ~s("registration_endpoint":"#{issuer}oidc/register","revocation_endpoint":) <>
      ~s("#{issuer}oauth/revoke","scopes_supported":["openid","profile","offline_access",) <>
      ~s("name","given_name","family_name","nickname","email","email_verified","picture",) <>
      ~s("created_at","identities","phone","address"],"response_types_supported":["code",) <>
      ~s("token","id_token","code token","code id_token","token id_token",) <>
      ~s("code token id_token"],"code_challenge_methods_supported":["S256","plain"],) <>
      ~s("response_modes_supported":["query","fragment","form_post"],) <>
      ~s("subject_types_supported":["public"],"id_token_signing_alg_values_supported":) <>
      ~s(["HS256","RS256","PS256"],"token_endpoint_auth_methods_supported":) <>
      ~s(["client_secret_basic","client_secret_post","private_key_jwt"],) <>
      ~s("claims_supported":["aud","auth_time","created_at","email","email_verified","exp",) <>
      ~s("family_name","given_name","iat","identities","iss","name","nickname",) <>
      ~s("phone_number","picture","sub"],"request_uri_parameter_supported":false,) <>
      ~s("request_parameter_supported":false,"token_endpoint_auth_signing_alg_values_supported":) <>
      ~s(["RS256","RS384","PS256"]})
  end

  # As panva's oidc-provider publishes it at RFC 8414's location (abridged).
  defp oidc_provider_metadata(issuer, jwks_uri) do
    ~s({"authorization_endpoint":"#{issuer}/auth","claims_parameter_supported":false,) <>
      ~s("claims_supported":["sub","sid","auth_time","iss"],) <>
      ~s("code_challenge_methods_supported":["S256"],"end_session_endpoint":) <>
      ~s("#{issuer}/session/end","grant_types_supported":["implicit","authorization_code",) <>
      ~s("refresh_token"],"issuer":"#{issuer}","jwks_uri":"#{jwks_uri}",) <>
      ~s("authorization_response_iss_parameter_supported":true,"response_modes_supported":) <>
      ~s(["form_post","fragment","query"],"response_types_supported":["code id_token","code",) <>
      ~s("id_token","none"],"scopes_supported":["openid","offline_access"],) <>
      ~s("subject_types_supported":["public"],"token_endpoint_auth_methods_supported":) <>
      ~s(["client_secret_basic","client_secret_jwt","client_secret_post","private_key_jwt",) <>
      ~s("none"],"token_endpoint_auth_signing_alg_values_supported":["HS256","RS256",) <>
      ~s("PS256","ES256","EdDSA"],"token_endpoint":"#{issuer}/token",) <>
      ~s("id_token_signing_alg_values_supported":["PS256","RS256","ES256","EdDSA"],) <>
      ~s("pushed_authorization_request_endpoint":"#{issuer}/request",) <>
      ~s("request_parameter_supported":false,"request_uri_parameter_supported":false,) <>
      ~s("userinfo_endpoint":"#{issuer}/me","introspection_endpoint":) <>
      ~s("#{issuer}/token/introspection","revocation_endpoint":"#{issuer}/token/revocation"})
  end

  describe "discovery against a real issuer over HTTPS" do
    test "a Keycloak realm: started with issuer: alone, the cache verifies its tokens", ctx do
      s = issuer_server(ctx, %{})
      issuer = base(s) <> "/realms/test"
      jwks_uri = issuer <> "/protocol/openid-connect/certs"

      TestServer.set(s,
        routes: %{
          ("/realms/test" <> @openid) => route(keycloak_metadata(issuer, jwks_uri)),
          "/realms/test/protocol/openid-connect/certs" => route(jwks([ctx.a, ctx.b]))
        }
      )

      name = cache(ctx, issuer: issuer)

      assert {:ok, %{"iss" => ^issuer}} = Cache.verify(name, tok(ctx.a, issuer))
      assert {:ok, _} = Cache.verify(name, tok(ctx.b, issuer), algs: ["ES256"])
      assert Cache.status(name) == :fresh
      assert Cache.issuer(name) == issuer

      assert paths(s) == [
               "/realms/test" <> @openid,
               "/realms/test/protocol/openid-connect/certs"
             ]

      info = Cache.info(name)
      assert info.source == {:discovery, issuer}
      assert info.issuer == issuer
      assert info.discovery.document_uri == issuer <> @openid
      assert info.discovery.jwks_uri == jwks_uri
      assert info.discovery.last_error == nil
      # No caching headers: the document is fresh for a day.
      assert info.discovery.refresh_at - info.discovery.fetched_at == 86_400_000
    end

    test "an Auth0 issuer: its trailing / is removed before appending (OIDC Discovery §4)",
         ctx do
      s = issuer_server(ctx, %{})
      issuer = base(s) <> "/"
      jwks_uri = issuer <> ".well-known/jwks.json"

      TestServer.set(s,
        routes: %{
          @openid => route(auth0_metadata(issuer, jwks_uri)),
          "/.well-known/jwks.json" => route(jwks([ctx.a]))
        }
      )

      name = cache(ctx, issuer: issuer)
      assert {:ok, _} = Cache.verify(name, tok(ctx.a, issuer))
      assert paths(s) == [@openid, "/.well-known/jwks.json"]
    end

    test "RFC 8414: without an OpenID document, the one inserted between host and path", ctx do
      s = issuer_server(ctx, %{})
      issuer = base(s) <> "/tenant1"
      jwks_uri = base(s) <> "/tenant1/jwks"

      TestServer.set(s,
        routes: %{
          (@oauth <> "/tenant1") => route(oidc_provider_metadata(issuer, jwks_uri)),
          "/tenant1/jwks" => route(jwks([ctx.a]))
        }
      )

      name = cache(ctx, issuer: issuer)
      assert {:ok, _} = Cache.verify(name, tok(ctx.a, issuer))
      assert paths(s) == ["/tenant1" <> @openid, @oauth <> "/tenant1", "/tenant1/jwks"]
      assert Cache.info(name).discovery.document_uri == base(s) <> @oauth <> "/tenant1"

      # A web app's catch-all page (200, HTML) at the OpenID path is no document either.
      TestServer.set(s,
        routes: %{
          ("/tenant1" <> @openid) => route("<!doctype html><html></html>"),
          (@oauth <> "/tenant1") => route(oidc_provider_metadata(issuer, jwks_uri)),
          "/tenant1/jwks" => route(jwks([ctx.a]))
        }
      )

      assert :ok = Cache.refresh(name)
      assert Cache.info(name).discovery.consecutive_failures == 0

      assert Enum.take(paths(s), -3) == [
               "/tenant1" <> @openid,
               @oauth <> "/tenant1",
               "/tenant1/jwks"
             ]
    end

    test "the document is read again on its own freshness; a moved jwks_uri is followed", ctx do
      s = issuer_server(ctx, %{})
      issuer = base(s)

      TestServer.set(s,
        routes: %{
          @openid =>
            route(keycloak_metadata(issuer, issuer <> "/certs"), cache_control: "max-age=1"),
          "/certs" => route(jwks([ctx.a]), cache_control: "max-age=1"),
          "/certs2" => route(jwks([ctx.b]))
        }
      )

      name = cache(ctx, issuer: issuer, min_ttl: 0)
      assert {:ok, _} = Cache.verify(name, tok(ctx.a, issuer))
      info = Cache.info(name)
      assert info.discovery.refresh_at - info.discovery.fetched_at == 1_000

      TestServer.set(s,
        routes: %{
          @openid => route(keycloak_metadata(issuer, issuer <> "/certs2")),
          "/certs" => route(jwks([ctx.a]), cache_control: "max-age=1"),
          "/certs2" => route(jwks([ctx.b]))
        }
      )

      # No refresh/1: the key set's own refresh, once the document is due, re-reads it.
      assert eventually(fn -> Cache.info(name).discovery.jwks_uri == issuer <> "/certs2" end)
      assert {:ok, _} = Cache.verify(name, tok(ctx.b, issuer), algs: ["ES256"])
      assert {:error, :unknown_kid} = Cache.verify(name, tok(ctx.a, issuer))
      assert Enum.count(paths(s), &(&1 == @openid)) == 2
    end
  end

  describe "a refused document" do
    test "is reported with its reason in info/1 and the log, and never verifies", ctx do
      # {document at the OpenID path, reason, whether RFC 8414's is asked for too}
      for {doc, reason, fallback?} <- [
            {&keycloak_metadata("https://evil.example/realms/test", &1 <> "/certs"),
             {:issuer_mismatch, "https://evil.example/realms/test"}, false},
            {&keycloak_metadata(&1, "http://localhost/certs"),
             {:insecure_jwks_uri, "http://localhost/certs"}, false},
            {fn _ -> {:huge, 1_048_577} end, {:body_too_large, 1_048_576}, false},
            {&~s({"issuer": "#{&1}"}), {:missing, "jwks_uri"}, false},
            # Not JSON (a duplicate member): maybe no document, so RFC 8414's is tried (404).
            {&~s({"issuer": "#{&1}", "issuer": "#{&1}", "jwks_uri": "#{&1}/certs"}), :bad_json,
             true}
          ] do
        s = issuer_server(ctx, %{})
        issuer = base(s)

        doc_route =
          case doc.(issuer) do
            {:huge, bytes} -> [mode: {:huge, bytes}]
            body -> route(body)
          end

        TestServer.set(s, routes: %{@openid => doc_route, "/certs" => route(jwks([ctx.a]))})

        log =
          capture_log(fn ->
            name = cache(ctx, issuer: issuer, backoff_initial: 60_000, await_first_fetch: 0)
            assert eventually(fn -> Cache.info(name).consecutive_failures == 1 end)
            assert %{last_error: {:discovery, ^reason}} = Cache.info(name)
            assert Cache.status(name) == :unavailable
            assert {:error, :jwks_unavailable} = Cache.verify(name, tok(ctx.a, issuer))
            stop_supervised!({Cache, name})
          end)

        tag = if is_tuple(reason), do: elem(reason, 0), else: reason
        assert log =~ ~r/discovery.*#{tag}/s, log
        expected = if fallback?, do: [@openid, @oauth], else: [@openid]
        assert paths(s) == expected, inspect(reason)
        TestServer.stop(s)
      end
    end

    test "a working key set survives a failing re-read; the known jwks_uri keeps serving", ctx do
      s = issuer_server(ctx, %{})
      issuer = base(s) <> "/realms/test"
      good = route(keycloak_metadata(issuer, base(s) <> "/certs"))

      TestServer.set(s,
        routes: %{("/realms/test" <> @openid) => good, "/certs" => route(jwks([ctx.a]))}
      )

      name = cache(ctx, issuer: issuer)
      assert {:ok, _} = Cache.verify(name, tok(ctx.a, issuer))

      # The document now names another issuer (and another jwks_uri), the keys rotate.
      bad = route(keycloak_metadata("https://evil.example/", "https://evil.example/certs"))

      TestServer.set(s,
        routes: %{("/realms/test" <> @openid) => bad, "/certs" => route(jwks([ctx.a, ctx.b]))}
      )

      log = capture_log(fn -> assert :ok = Cache.refresh(name) end)
      assert log =~ "issuer_mismatch"
      assert log =~ "keeping jwks_uri"

      info = Cache.info(name)
      assert info.status == :fresh
      assert info.last_error == nil
      assert info.discovery.jwks_uri == base(s) <> "/certs"
      assert info.discovery.last_error == {:issuer_mismatch, "https://evil.example/"}
      assert info.discovery.consecutive_failures == 1
      assert info.kids == ["key-a", "key-b"]
      assert {:ok, _} = Cache.verify(name, tok(ctx.b, issuer), algs: ["ES256"])

      # Down altogether: still the same keys.
      TestServer.set(s, routes: %{"/certs" => route(jwks([ctx.a, ctx.b]))})
      assert :ok = Cache.refresh(name)
      assert Cache.info(name).discovery.last_error == {:http_status, 404}
      assert {:ok, _} = Cache.verify(name, tok(ctx.a, issuer))

      TestServer.set(s,
        routes: %{("/realms/test" <> @openid) => good, "/certs" => route(jwks([ctx.a]))}
      )

      assert :ok = Cache.refresh(name)
      assert %{last_error: nil, consecutive_failures: 0} = Cache.info(name).discovery
    end
  end

  describe "a cache that knows its issuer" do
    test "requires it by default; an explicit iss option still wins", ctx do
      name = cache(ctx, issuer: "https://a.example/", jwks: jwks([ctx.a]))
      assert Cache.issuer(name) == "https://a.example/"

      assert {:ok, _} = Cache.verify(name, tok(ctx.a, "https://a.example/"))
      assert {:error, :invalid_issuer} = Cache.verify(name, tok(ctx.a, "https://b.example/"))

      assert {:error, :invalid_issuer} =
               JwksVerify.verify(tok(ctx.a, "https://b.example/"), name, [])

      assert {:error, {:missing_claim, "iss"}} = Cache.verify(name, token(ctx.a, claims()))

      assert {:ok, _} =
               Cache.verify(name, tok(ctx.a, "https://b.example/"), iss: "https://b.example/")

      assert {:error, :invalid_issuer} =
               Cache.verify(name, tok(ctx.a, "https://a.example/"), iss: "https://b.example/")

      prepared = JwksVerify.options(leeway: 5)

      assert {:error, :invalid_issuer} =
               Cache.verify(name, tok(ctx.a, "https://b.example/"), prepared)

      assert {:error, :invalid_issuer} =
               :jwks_verify.verify(tok(ctx.a, "https://b.example/"), name, %{})

      assert :jwks_verify_cache.issuer(name) == "https://a.example/"
    end

    test "through the token cache too: a token cached under an explicit iss needs it", ctx do
      name = cache(ctx, issuer: "https://a.example/", jwks: jwks([ctx.a]), token_cache: true)
      other = tok(ctx.a, "https://b.example/")

      assert {:ok, _} = Cache.verify(name, other, iss: "https://b.example/")
      assert {:ok, _} = Cache.verify(name, other, iss: "https://b.example/")
      assert {:error, :invalid_issuer} = Cache.verify(name, other)
    end

    test "issuer with jwks_uri names the issuer without discovery", ctx do
      s = issuer_server(ctx, %{"/certs" => route(jwks([ctx.a]))})
      name = cache(ctx, issuer: "https://a.example/", jwks_uri: base(s) <> "/certs")

      assert {:ok, _} = Cache.verify(name, tok(ctx.a, "https://a.example/"))
      assert {:error, :invalid_issuer} = Cache.verify(name, tok(ctx.a, base(s)))
      assert paths(s) == ["/certs"]
      assert %{issuer: "https://a.example/", discovery: nil} = Cache.info(name)
    end

    test "a cache without issuer checks no iss; issuer/1 is nil, also for no cache", ctx do
      name = cache(ctx, jwks: jwks([ctx.a]))
      assert Cache.issuer(name) == nil
      assert {:ok, _} = Cache.verify(name, tok(ctx.a, "https://b.example/"))
      assert Cache.issuer(:no_such_cache) == nil
      assert :jwks_verify_cache.issuer(:no_such_cache) == :undefined
    end

    test "option mistakes raise ArgumentError naming :issuer", ctx do
      for opts <- [
            [issuer: ""],
            [issuer: 42],
            [issuer: "http://127.0.0.1:1/"],
            [issuer: "https://a.example/?tenant=1"],
            [issuer: "https://a.example/#x"],
            [issuer: "not a url"]
          ] do
        e = assert_raise ArgumentError, fn -> Cache.start_link([name: :x] ++ opts) end
        assert e.message =~ "issuer", inspect(opts)
      end

      # Beside a source, any issuer string is a name to check iss against.
      name = cache(ctx, issuer: "urn:example:issuer", jwks: jwks([ctx.a]))
      assert {:ok, _} = Cache.verify(name, tok(ctx.a, "urn:example:issuer"))
    end
  end

  describe "metadata URLs and documents" do
    test "where the metadata is: OpenID Connect Discovery §4, then RFC 8414 §3.1" do
      for {issuer, expected} <- [
            {"https://tenant.example.com/",
             [
               "https://tenant.example.com/.well-known/openid-configuration",
               "https://tenant.example.com/.well-known/oauth-authorization-server"
             ]},
            {"https://example.com",
             [
               "https://example.com/.well-known/openid-configuration",
               "https://example.com/.well-known/oauth-authorization-server"
             ]},
            # RFC 8414 §3.1's own example
            {"https://example.com/issuer1",
             [
               "https://example.com/issuer1/.well-known/openid-configuration",
               "https://example.com/.well-known/oauth-authorization-server/issuer1"
             ]},
            {"https://example.com:8443/realms/x/",
             [
               "https://example.com:8443/realms/x/.well-known/openid-configuration",
               "https://example.com:8443/.well-known/oauth-authorization-server/realms/x"
             ]}
          ] do
        assert Discovery.document_uris(String.to_charlist(issuer)) ==
                 Enum.map(expected, &String.to_charlist/1)
      end
    end

    test "a document names exactly the issuer and an allowed jwks_uri" do
      iss = "https://a.example/"
      doc = %{"issuer" => iss, "jwks_uri" => "https://a.example/jwks"}
      assert {:ok, ~c"https://a.example/jwks"} = Discovery.check_document(doc, iss, false)

      for {d, reason} <- [
            {%{doc | "issuer" => "https://a.example"}, {:issuer_mismatch, "https://a.example"}},
            {%{doc | "issuer" => "https://A.example/"}, {:issuer_mismatch, "https://A.example/"}},
            {%{doc | "issuer" => ["https://a.example/"]}, {:issuer_mismatch, :not_a_string}},
            {Map.delete(doc, "issuer"), {:missing, "issuer"}},
            {Map.delete(doc, "jwks_uri"), {:missing, "jwks_uri"}},
            {%{doc | "jwks_uri" => "http://a.example/jwks"},
             {:insecure_jwks_uri, "http://a.example/jwks"}},
            {%{doc | "jwks_uri" => "/jwks"}, {:bad_jwks_uri, "/jwks"}},
            {%{doc | "jwks_uri" => 1}, {:bad_jwks_uri, :not_a_string}}
          ] do
        assert Discovery.check_document(d, iss, false) == {:error, reason}
      end

      long = String.duplicate("x", 5_000)

      assert {:error, {:issuer_mismatch, echoed}} =
               Discovery.check_document(%{doc | "issuer" => long}, iss, false)

      assert byte_size(echoed) < 300

      assert {:ok, ~c"http://a.example/jwks"} =
               Discovery.check_document(%{doc | "jwks_uri" => "http://a.example/jwks"}, iss, true)
    end

    test "decode/1 reads a JSON object strictly, up to max_document_bytes/0" do
      assert {:ok, %{"a" => [1, true, :null], "b" => %{"c" => "é"}}} =
               Discovery.decode(~s({"a": [1, true, null], "b": {"c": "é"}}))

      for bad <- [
            "",
            "[]",
            "\"x\"",
            ~s({"a": 1, "a": 2}),
            ~s({"a": 1,}),
            "<html></html>",
            <<"{\"a\": \"", 0xFF, "\"}">>
          ] do
        assert Discovery.decode(bad) == {:error, :bad_json}, inspect(bad)
      end

      max = Discovery.max_document_bytes()
      fits = ~s({"a": ") <> String.duplicate("x", max - 9) <> ~s("})
      assert byte_size(fits) == max
      assert {:ok, _} = Discovery.decode(fits)
      assert {:error, {:body_too_large, ^max}} = Discovery.decode(fits <> " ")
    end
  end
end
