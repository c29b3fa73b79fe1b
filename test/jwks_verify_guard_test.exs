# Guards :jwks_verify_guard, the request decision that JwksVerify.Plug and
# :jwks_verify_httpd share, called from Elixir exactly as the Erlang module
# is: bearer-token parsing per RFC 6750 §2.1, the status, challenge and body
# of every refusal (§3, §3.1), the details string of every reason, public
# paths, the claims handed on, and init/1's refusals ({badarg, Description}).
# Tokens are signed by :public_key (test/support), never by jwks_verify.
defmodule JwksVerify.GuardTest do
  use ExUnit.Case, async: true

  import JwksVerify.TokenHelpers
  import JwksVerify.PlugTestHelpers

  alias :jwks_verify_guard, as: Guard

  setup_all do
    # The key and JWKS of a JwksVerify.Test issuer, as a user's suite has them.
    issuer = JwksVerify.Test.new_issuer(kid: "k1")
    key = issuer.key
    {:ok, ks} = JwksVerify.key_set(JwksVerify.Test.jwks(issuer))

    config =
      Guard.init(key_set: ks, iss: iss(), aud: aud(), public_paths: ["/public", "/assets/*"])

    %{key: key, other: rsa_key(), ks: ks, config: config}
  end

  defp decode_json(body), do: :jiffy.decode(body, [:return_maps])
  defp header(headers, name), do: for({^name, v} <- headers, do: v)

  describe "bearer/1" do
    @ok [
      {"Bearer abc.def.ghi", "abc.def.ghi"},
      {"bearer abc.def.ghi", "abc.def.ghi"},
      {"BEARER abc", "abc"},
      {"BeArEr    abc", "abc"},
      {"  Bearer abc  ", "abc"},
      {"Bearer\tabc", "abc"},
      {"Bearer a-b_c.d~e+f/g==", "a-b_c.d~e+f/g=="}
    ]

    for {value, token} <- @ok do
      test "#{inspect(value)} gives #{inspect(token)}" do
        assert Guard.bearer([{"authorization", unquote(value)}]) == {:ok, unquote(token)}
      end
    end

    @refused [
      {[], :missing_token},
      {[{"accept", "application/json"}], :missing_token},
      {[{"authorization", ""}], :missing_token},
      {[{"authorization", "Basic dXNlcjpwYXNz"}], :missing_token},
      {[{"authorization", "Digest username=\"a\""}], :missing_token},
      {[{"authorization", "Bearerabc"}], :missing_token},
      {[{"authorization", "Token abc"}], :missing_token},
      {[{"authorization", "Bearer"}], :malformed_authorization},
      {[{"authorization", "Bearer "}], :malformed_authorization},
      {[{"authorization", "bearer    "}], :malformed_authorization},
      {[{"authorization", "Bearer a b"}], :malformed_authorization},
      {[{"authorization", "Bearer a\tb"}], :malformed_authorization},
      {[{"authorization", "Bearer a"}, {"authorization", "Bearer a"}], :multiple_authorization},
      {[{"authorization", "Bearer a"}, {"authorization", "Basic b"}], :multiple_authorization},
      {[{"authorization", "Basic b"}, {"x", "y"}, {"authorization", "Bearer a"}],
       :multiple_authorization}
    ]

    for {headers, reason} <- @refused do
      test "#{inspect(headers)} is #{reason}" do
        assert Guard.bearer(unquote(Macro.escape(headers))) == {:error, unquote(reason)}
      end
    end
  end

  describe "decide/3 without a usable bearer header" do
    test "no token: 401, a challenge without an error code (RFC 6750 §3.1)", %{config: c} do
      for headers <- [[], [{"authorization", "Basic dXNlcjpwYXNz"}]] do
        assert {:error, :missing_token, {401, hs, body}} =
                 Guard.decide(c, headers, "/api/protected")

        assert header(hs, "www-authenticate") == ["Bearer"]
        assert header(hs, "content-type") == ["application/json"]
        assert body == ~s({"error":"Unauthorized","details":"missing bearer token"})
      end
    end

    test "malformed header: 400 invalid_request", %{config: c, key: key} do
      token = rs256(key, "k1", claims())

      cases = [
        {[{"authorization", "Bearer"}], "malformed authorization header"},
        {[{"authorization", "Bearer " <> token <> " x"}], "malformed authorization header"},
        {[{"authorization", "Bearer " <> token <> "\tx"}], "malformed authorization header"},
        {bearer_headers(token) ++ bearer_headers(token), "multiple authorization headers"}
      ]

      for {headers, details} <- cases do
        assert {:error, _, {400, hs, body}} = Guard.decide(c, headers, "/api/protected")

        assert header(hs, "www-authenticate") == [
                 ~s(Bearer error="invalid_request", error_description="#{details}")
               ]

        assert body == ~s({"error":"Bad Request","details":"#{details}"})
      end
    end
  end

  describe "decide/3 and check/3 with a token" do
    test "a valid token gives exactly its claims", %{config: c, key: key} do
      claims =
        claims(%{
          "roles" => ["admin", "ops"],
          "profile" => %{"name" => "Zoë \"Z\"", "verified" => true, "nick" => :null},
          "big" => 9_007_199_254_740_993,
          "ratio" => 0.5
        })

      token = rs256(key, "k1", claims)

      assert {:ok, got} = Guard.decide(c, bearer_headers(token), "/api/protected")
      assert got == claims
      assert Guard.check(c, bearer_headers(token), "/api/protected") == {:ok, got}
      assert Guard.decide(c, [{"authorization", "bearer " <> token}], "/api/x") == {:ok, got}

      other_headers = [{"accept", "*/*"} | bearer_headers(token)] ++ [{"x-b", "Bearer junk"}]
      assert Guard.decide(c, other_headers, "/api/x") == {:ok, got}
    end

    test "each refused token: 401 invalid_token with its details", %{config: c} = ctx do
      %{key: key, other: other} = ctx
      valid = rs256(key, "k1", claims())
      {h, p, s} = segments(valid)
      tampered_payload = b64(:jiffy.encode(claims(%{"sub" => "admin"})))

      cases = [
        {:expired, "token expired", rs256(key, "k1", claims(%{"exp" => now() - 60}))},
        {:not_yet_valid, "token not yet valid",
         rs256(key, "k1", claims(%{"nbf" => now() + 600}))},
        {:issued_in_future, "token issued in the future",
         rs256(key, "k1", claims(%{"iat" => now() + 600}))},
        {:invalid_issuer, "invalid issuer",
         rs256(key, "k1", claims(%{"iss" => "https://evil.test/"}))},
        {:invalid_audience, "invalid audience",
         rs256(key, "k1", claims(%{"aud" => "other-api"}))},
        {{:missing_claim, "exp"}, "missing claim: exp",
         rs256(key, "k1", Map.delete(claims(), "exp"))},
        {{:invalid_claim, "exp"}, "invalid claim: exp",
         rs256(key, "k1", claims(%{"exp" => "tomorrow"}))},
        {:bad_signature, "invalid signature", h <> "." <> tampered_payload <> "." <> s},
        {:bad_signature, "invalid signature", rs256(other, "k1", claims())},
        {:bad_signature, "invalid signature", flip_signature_bit(valid)},
        {:unknown_kid, "unknown key id", rs256(other, "k2", claims())},
        {:malformed_token, "malformed token", h <> "." <> p},
        {:bad_base64, "invalid base64url encoding", h <> "." <> p <> "." <> s <> "="},
        {:alg_none, "unsigned token",
         unsigned_token(~s({"alg":"none"}), :jiffy.encode(claims()))},
        {:unsupported_alg, "unsupported algorithm", hs256_token("secret", claims())},
        {:embedded_key, "embedded key not allowed",
         token(key, "RS256", claims(), %{"kid" => "k1", "jku" => "https://evil.test/"})}
      ]

      for {reason, details, token} <- cases do
        assert Guard.check(c, bearer_headers(token), "/api/protected") == {:error, reason}

        assert {:error, ^reason, {401, hs, body}} =
                 Guard.decide(c, bearer_headers(token), "/api/protected"),
               details

        assert header(hs, "www-authenticate") == [
                 ~s(Bearer error="invalid_token", error_description="#{details}")
               ]

        assert header(hs, "content-type") == ["application/json"]
        assert decode_json(body) == %{"error" => "Unauthorized", "details" => details}
      end
    end

    test "alg not allowed, and a token over max_token_bytes", %{ks: ks, key: key} do
      token = rs256(key, "k1", claims())
      c = Guard.init(key_set: ks, algs: ["ES256"])

      assert {:error, :alg_not_allowed, {401, _, body}} =
               Guard.decide(c, bearer_headers(token), "/")

      assert decode_json(body)["details"] == "algorithm not allowed"

      c = Guard.init(key_set: ks, max_token_bytes: 100)

      assert {:error, :token_too_large, {401, _, body}} =
               Guard.decide(c, bearer_headers(token), "/")

      assert decode_json(body)["details"] == "token too large"
    end

    test "typ, required and leeway reach the verifier", %{ks: ks, key: key} do
      token = rs256(key, "k1", claims(%{"exp" => now() - 5}))

      assert {:ok, _} =
               Guard.decide(
                 Guard.init(key_set: ks, aud: aud(), leeway: 60),
                 bearer_headers(token),
                 "/"
               )

      token = rs256(key, "k1", claims())
      c = Guard.init(key_set: ks, required: ["exp", "scope"])
      assert {:error, _, {401, _, body}} = Guard.decide(c, bearer_headers(token), "/")
      assert decode_json(body)["details"] == "missing claim: scope"

      c = Guard.init(key_set: ks, typ: "at+jwt")
      assert {:error, :invalid_typ, {401, _, body}} = Guard.decide(c, bearer_headers(token), "/")
      assert decode_json(body)["details"] == "invalid token type"
    end

    test "a cache name that runs no cache: the unavailable status", %{key: key} do
      c = Guard.init(cache: JwksVerify.GuardTest.NoSuchCache)
      token = rs256(key, "k1", claims())

      assert {:error, :jwks_unavailable, {503, hs, body}} =
               Guard.decide(c, bearer_headers(token), "/")

      assert header(hs, "www-authenticate") == []
      assert body == ~s({"error":"Service Unavailable","details":"jwks unavailable"})
    end
  end

  describe "response/2, details/1 and reasons/0" do
    test "every reason of JwksVerify has its own details string" do
      table = Guard.reasons()

      for reason <- typed_reasons(JwksVerify) ++ typed_reasons(:jwks_verify) do
        assert Map.has_key?(table, reason), "no details string for #{inspect(reason)}"
      end

      strings = Map.values(table)
      assert length(strings) == length(Enum.uniq(strings))
      assert Enum.all?(strings, &(&1 =~ ~r/^[a-z][a-z0-9 ]*[a-z]$/))
    end

    test "every reason atom the NIF returns has its own details string" do
      for reason <- JwksVerify.reasons() do
        assert Map.has_key?(Guard.reasons(), reason), "no details string for #{inspect(reason)}"
      end
    end

    test "the status and challenge of every reason", %{config: c} do
      for {reason, details} <- Guard.reasons() do
        {status, hs, body} = Guard.response(c, reason)
        assert Guard.details(reason) == details
        assert decode_json(body)["details"] == details
        challenge = List.first(header(hs, "www-authenticate"))

        case reason do
          :missing_token ->
            assert {status, challenge} == {401, "Bearer"}

          r when r in [:multiple_authorization, :malformed_authorization] ->
            assert status == 400
            assert challenge =~ ~s(error="invalid_request")

          r
          when r in [:jwks_unavailable, :jwks_too_large, :bad_json, :bad_jwks, :too_many_keys] ->
            assert {status, challenge} == {503, nil}
            assert decode_json(body)["error"] == "Service Unavailable"

          :insufficient_scope ->
            assert {status, challenge} == {403, ~s(Bearer error="insufficient_scope")}

          :internal_error ->
            assert {status, challenge} == {500, nil}
            assert body == ~s({"error":"Internal Server Error","details":"internal error"})

          _ ->
            assert status == 401

            assert challenge ==
                     ~s(Bearer error="invalid_token", error_description="#{details}")
        end
      end
    end

    test "the body is fixed strings: exactly error, then details", %{config: c} do
      for {reason, details} <- Guard.reasons() do
        {status, _, body} = Guard.response(c, reason)
        phrase = decode_json(body)["error"]

        assert phrase in [
                 "Unauthorized",
                 "Bad Request",
                 "Forbidden",
                 "Service Unavailable",
                 "Internal Server Error"
               ],
               "#{status}"

        assert body == ~s({"error":"#{phrase}","details":"#{details}"})
      end
    end

    test "claim names are kept in details, made header- and JSON-safe", %{config: c} do
      assert Guard.details({:missing_claim, "aud"}) == "missing claim: aud"
      assert Guard.details({:invalid_claim, "nbf"}) == "invalid claim: nbf"
      {401, hs, body} = Guard.response(c, {:missing_claim, ~s(a"b\\c\n)})

      assert header(hs, "www-authenticate") == [
               ~s(Bearer error="invalid_token", error_description="missing claim: a?b?c?")
             ]

      assert decode_json(body)["details"] == "missing claim: a?b?c?"

      # Every byte value, and a long name: still valid JSON, at most 64 bytes kept.
      hostile = :binary.list_to_bin(Enum.to_list(0..255)) <> String.duplicate("x", 100)
      {401, _, body} = Guard.response(c, {:invalid_claim, hostile})
      assert "invalid claim: " <> kept = decode_json(body)["details"]
      assert byte_size(kept) == 64
      assert kept =~ ~r/^[\x20-\x7e]+$/
    end

    test "an unknown reason is an invalid token, not a crash", %{config: c} do
      for reason <- [:some_future_reason, {:odd, 1}, "text"] do
        assert {401, _, body} = Guard.response(c, reason)
        assert decode_json(body)["details"] == "invalid token"
      end
    end

    test "unavailable_status is configurable within 5xx, with no challenge", %{ks: ks} do
      c = Guard.init(key_set: ks, unavailable_status: 500)
      assert {500, hs, body} = Guard.response(c, :jwks_unavailable)
      assert header(hs, "www-authenticate") == []

      assert decode_json(body) == %{
               "error" => "Internal Server Error",
               "details" => "jwks unavailable"
             }

      c = Guard.init(key_set: ks, unavailable_status: 599)
      assert {599, _, body} = Guard.response(c, :bad_jwks)
      assert body == ~s({"error":"599","details":"invalid jwks"})
    end

    test "a realm goes first in every challenge", %{ks: ks} do
      c = Guard.init(key_set: ks, realm: "api")
      {401, hs, _} = Guard.response(c, :missing_token)
      assert header(hs, "www-authenticate") == [~s(Bearer realm="api")]
      {401, hs, _} = Guard.response(c, :expired)

      assert header(hs, "www-authenticate") == [
               ~s(Bearer realm="api", error="invalid_token", error_description="token expired")
             ]
    end
  end

  # Issue 15 item 3: RFC 9068 §2.2.3 scopes, refused per RFC 6750 §3.1.
  describe "scopes" do
    setup %{ks: ks} do
      %{scoped: Guard.init(key_set: ks, iss: iss(), aud: aud(), scopes: ["read:orders", "write"])}
    end

    test "a token granting every scope passes, as a scope string or an scp array", ctx do
      %{scoped: c, key: key} = ctx

      for extra <- [
            %{"scope" => "read:orders write"},
            %{"scope" => "  write   other read:orders "},
            %{"scp" => ["write", "read:orders"]},
            %{"scp" => "read:orders write"},
            %{"scope" => "write", "scp" => ["read:orders"]}
          ] do
        claims = claims(extra)
        token = rs256(key, "k1", claims)

        assert Guard.decide(c, bearer_headers(token), "/api/orders") == {:ok, claims},
               inspect(extra)
      end
    end

    test "a valid token without one: 403 insufficient_scope naming every required scope", ctx do
      %{scoped: c, key: key} = ctx

      for {extra, missing} <- [
            {%{}, ["read:orders", "write"]},
            {%{"scope" => "read:orders"}, ["write"]},
            {%{"scp" => ["write"]}, ["read:orders"]},
            {%{"scope" => ""}, ["read:orders", "write"]},
            {%{"scp" => [1, "write", :null]}, ["read:orders"]},
            {%{"scope" => "read:orders,write"}, ["read:orders", "write"]},
            {%{"scope" => "READ:ORDERS write"}, ["read:orders"]}
          ] do
        token = rs256(key, "k1", claims(extra))

        assert Guard.check(c, bearer_headers(token), "/api/orders") ==
                 {:error, {:insufficient_scope, missing}},
               inspect(extra)

        assert {:error, {:insufficient_scope, ^missing}, {403, hs, body}} =
                 Guard.decide(c, bearer_headers(token), "/api/orders")

        # RFC 6750 §3.1: the scope attribute names what the resource needs.
        assert header(hs, "www-authenticate") == [
                 ~s(Bearer error="insufficient_scope", scope="read:orders write")
               ]

        assert header(hs, "content-type") == ["application/json"]
        assert body == ~s({"error":"Forbidden","details":"insufficient scope"})
      end
    end

    test "scopes compare whole: read does not grant read:all, nor read:all read",
         %{ks: ks} = ctx do
      %{key: key} = ctx
      read_all = Guard.init(key_set: ks, aud: aud(), scopes: ["read:all"])
      read = Guard.init(key_set: ks, aud: aud(), scopes: ["read"])

      for {c, granted, missing} <- [
            {read_all, %{"scope" => "read"}, "read:all"},
            {read_all, %{"scp" => ["read"]}, "read:all"},
            {read, %{"scope" => "read:all"}, "read"},
            {read, %{"scp" => ["read:all", "reader"]}, "read"}
          ] do
        token = rs256(key, "k1", claims(granted))

        assert {:error, {:insufficient_scope, [^missing]}, {403, hs, _}} =
                 Guard.decide(c, bearer_headers(token), "/")

        assert header(hs, "www-authenticate") == [
                 ~s(Bearer error="insufficient_scope", scope="#{missing}")
               ]
      end

      token = rs256(key, "k1", claims(%{"scope" => "read:all read"}))
      assert {:ok, _} = Guard.decide(read_all, bearer_headers(token), "/")
      assert {:ok, _} = Guard.decide(read, bearer_headers(token), "/")
    end

    test "a token that fails verification is 401 whatever scopes it claims", ctx do
      %{scoped: c, other: other, key: key} = ctx
      scoped = claims(%{"scope" => "read:orders write"})

      for {token, reason} <- [
            {rs256(other, "k1", scoped), :bad_signature},
            {rs256(key, "k1", Map.put(scoped, "exp", now() - 60)), :expired},
            {rs256(key, "k1", Map.put(scoped, "aud", "other")), :invalid_audience}
          ] do
        assert {:error, ^reason, {401, _, _}} = Guard.decide(c, bearer_headers(token), "/")
      end

      assert {:error, :missing_token, {401, _, _}} = Guard.decide(c, [], "/")
    end

    test "a realm comes first; no scope attribute when none is configured", %{ks: ks} do
      c = Guard.init(key_set: ks, realm: "api", scopes: [~c"admin"])
      assert c.scopes == ["admin"]
      {403, hs, _} = Guard.response(c, {:insufficient_scope, ["admin"]})

      assert header(hs, "www-authenticate") == [
               ~s(Bearer realm="api", error="insufficient_scope", scope="admin")
             ]

      {403, hs, _} = Guard.response(Guard.init(key_set: ks), {:insufficient_scope, ["x"]})
      assert header(hs, "www-authenticate") == [~s(Bearer error="insufficient_scope")]
      assert Guard.details({:insufficient_scope, ["x"]}) == "insufficient scope"
    end
  end

  # Issue 15 item 2: one guard, several issuers (Envoy's providers/requires_any).
  describe "several issuers: cache: [A, B]" do
    @describetag :capture_log
    @iss_a "https://a.test/"
    @iss_b "https://b.test/"

    setup do
      # Each issuer has its own key, and both call it "k1".
      key_a = rsa_key()
      key_b = rsa_key()
      server_a = start_issuer(jwks_for([{key_a, "k1"}]))
      server_b = start_issuer(jwks_for([{key_b, "k1"}]))

      on_exit(fn ->
        stop_issuer(server_a)
        stop_issuer(server_b)
      end)

      %{key_a: key_a, key_b: key_b, server_a: server_a, server_b: server_b}
    end

    setup ctx do
      a = :"#{ctx.test} A"
      b = :"#{ctx.test} B"
      start_supervised!(issuer_cache(a, @iss_a, ctx.server_a.url), id: a)
      start_supervised!(issuer_cache(b, @iss_b, ctx.server_b.url), id: b)
      eventually(fn -> :jwks_verify_cache.status(a) == :fresh end)
      eventually(fn -> :jwks_verify_cache.status(b) == :fresh end)
      %{a: a, b: b, two: Guard.init(cache: [a, b], aud: aud())}
    end

    defp issuer_cache(name, issuer, url) do
      :jwks_verify_cache.child_spec(%{name: name, issuer: issuer, jwks_uri: url, allow_http: true})
    end

    defp signed(key, iss, extra \\ %{}), do: rs256(key, "k1", claims(Map.put(extra, "iss", iss)))

    test "tokens of each issuer verify through one guard", ctx do
      %{two: c, key_a: key_a, key_b: key_b} = ctx

      for {key, iss} <- [{key_a, @iss_a}, {key_b, @iss_b}] do
        token = signed(key, iss)
        assert {:ok, %{"iss" => ^iss}} = Guard.decide(c, bearer_headers(token), "/api/x")
      end

      # The order of the list does not matter.
      c = Guard.init(cache: [ctx.b, ctx.a], aud: aud())
      assert {:ok, _} = Guard.decide(c, bearer_headers(signed(key_a, @iss_a)), "/api/x")
    end

    test "issuer A's key claiming issuer B is refused: B's k1 is B's key", ctx do
      %{two: c, key_a: key_a, key_b: key_b} = ctx

      assert Guard.check(c, bearer_headers(signed(key_a, @iss_b)), "/") ==
               {:error, :bad_signature}

      assert Guard.check(c, bearer_headers(signed(key_b, @iss_a)), "/") ==
               {:error, :bad_signature}
    end

    test "every claim is checked against the chosen issuer", ctx do
      %{two: c, key_b: key_b} = ctx

      for {extra, reason} <- [
            {%{"exp" => now() - 60}, :expired},
            {%{"aud" => "other-api"}, :invalid_audience},
            {%{"nbf" => now() + 600}, :not_yet_valid}
          ] do
        assert Guard.check(c, bearer_headers(signed(key_b, @iss_b, extra)), "/") ==
                 {:error, reason}
      end

      c = Guard.init(cache: [ctx.a, ctx.b], aud: aud(), scopes: ["read"])
      token = signed(key_b, @iss_b, %{"scope" => "write"})

      assert {:error, {:insufficient_scope, ["read"]}, {403, _, _}} =
               Guard.decide(c, bearer_headers(token), "/")
    end

    test "an iss that names none of them: invalid_issuer, 401", ctx do
      %{two: c, key_a: key_a} = ctx

      for iss <- ["https://evil.test/", "https://a.test", "https://A.test/", ""] do
        token = signed(key_a, iss)

        assert {:error, :invalid_issuer, {401, hs, _}} =
                 Guard.decide(c, bearer_headers(token), "/")

        assert header(hs, "www-authenticate") == [
                 ~s(Bearer error="invalid_token", error_description="invalid issuer")
               ]
      end
    end

    test "an iss that is no string, or none, is refused before any cache is chosen", ctx do
      %{key_a: key_a} = ctx
      # Caches that don't run: consulting one would answer jwks_unavailable.
      c = Guard.init(cache: [__MODULE__.NoCacheA, __MODULE__.NoCacheB])

      for iss <- [42, [@iss_a], %{"url" => @iss_a}, true, :null] do
        token = signed(key_a, iss)
        assert Guard.check(c, bearer_headers(token), "/") == {:error, {:invalid_claim, "iss"}}

        assert Guard.check(ctx.two, bearer_headers(token), "/") ==
                 {:error, {:invalid_claim, "iss"}}
      end

      token = rs256(key_a, "k1", Map.delete(claims(), "iss"))
      assert Guard.check(c, bearer_headers(token), "/") == {:error, {:missing_claim, "iss"}}

      # A token that can't be read is refused as such, with no cache either.
      assert Guard.check(c, bearer_headers("abc.def"), "/") == {:error, :malformed_token}
      big = String.duplicate("a", 40_000)
      assert Guard.check(c, bearer_headers(big), "/") == {:error, :token_too_large}
    end

    test "a cache that can't say its issuer: jwks_unavailable, not invalid_issuer", ctx do
      %{a: a, key_a: key_a, key_b: key_b} = ctx
      c = Guard.init(cache: [a, __MODULE__.NotRunning], aud: aud())
      assert {:ok, _} = Guard.check(c, bearer_headers(signed(key_a, @iss_a)), "/")

      assert {:error, :jwks_unavailable, {503, _, _}} =
               Guard.decide(c, bearer_headers(signed(key_b, @iss_b)), "/")
    end

    test "init/1: plain data; iss, duplicates and non-atoms refused", ctx do
      c = Guard.init(cache: [ctx.a, ctx.b])
      assert c.keys == [ctx.a, ctx.b]
      assert plain?(c)

      for {opts, message} <- [
            {[cache: [A, B], iss: "https://a.test/"], ~r/give the option iss or several caches/},
            {[cache: []],
             ~r/option :cache: expected the atom naming a jwks_verify_cache, or a non-empty list/},
            {[cache: [A, A]], ~r/option :cache: .* got \[A, A\]$/},
            {[cache: [A, "B"]], ~r/option :cache: .* got \[A, "B"\]$/},
            {[cache: [A, nil]], ~r/option :cache: /}
          ] do
        assert_raise ArgumentError, message, fn -> JwksVerify.call(fn -> Guard.init(opts) end) end
      end
    end
  end

  describe "public paths" do
    test "exact and prefix paths are skipped, segment by segment", %{config: c} do
      for path <- ["/public", "/public/", "//public", "/assets", "/assets/app.js", "/assets/a/b"] do
        assert Guard.decide(c, [], path) == :skip, path
        assert Guard.check(c, [], path) == :skip, path
      end

      for path <- [
            "/",
            "/public/x",
            "/publicx",
            "/api/protected",
            "/asset",
            "/x/public",
            "/public/../api/protected",
            "/assets/../api",
            "/./public"
          ] do
        assert {:error, :missing_token, {401, _, _}} = Guard.decide(c, [], path), path
      end
    end

    test "a public path needs no token even when a bad one is sent", %{config: c} do
      assert Guard.decide(c, [{"authorization", "Bearer junk"}], "/public") == :skip
    end

    test "a skip predicate", %{ks: ks} do
      c = Guard.init(key_set: ks, skip: {__MODULE__, :health?})
      assert Guard.decide(c, [], "/healthz") == :skip
      assert {:error, :missing_token, {401, _, _}} = Guard.decide(c, [], "/api")
    end
  end

  def health?(path), do: path == "/healthz"

  describe "init/1" do
    test "returns plain data, defaults filled in" do
      c = Guard.init(cache: MyApp.Jwks, iss: "https://i/", aud: ["a", "b"])
      assert %{keys: MyApp.Jwks, assign: :current_user, unavailable_status: 503} = c
      assert %{public: [], skip: :undefined, on_error: :undefined, realm: :undefined} = c
      assert c.scopes == []
      assert plain?(c)
    end

    test "takes a map or a proplist, as Erlang callers give them" do
      assert Guard.init(%{cache: :my_jwks}).keys == :my_jwks

      assert Guard.init([{:cache, :my_jwks}, {:public_paths, [~c"/public", "/a/*"]}]).public ==
               [{:exact, ["public"]}, {:prefix, ["a"]}]

      assert Guard.init(cache: :my_jwks, realm: ~c"api", skip: nil).realm == "api"
    end

    @bad [
      {[], ~r/^the option cache .* is required, or key_set/},
      {[cache: "MyApp.Jwks"], ~r/option :cache: expected the atom .* got "MyApp.Jwks"$/},
      {[cache: nil], ~r/option :cache: expected the atom/},
      {[cache: A, key_set: :not_a_key_set], ~r/not both/},
      {[key_set: :not_a_key_set],
       ~r/option :key_set: expected a key set from .* got :not_a_key_set/},
      {[cache: A, bogus: 1], ~r/unknown option :bogus; known options: :cache, :key_set/},
      {[cache: A, realmm: "x"], ~r/unknown option :realmm \(did you mean :realm\?\)/},
      {[cache: A, now: 1], ~r/unknown option :now/},
      {[cache: A, cache: B], ~r/option :cache: expected the option once \(it is given twice\)/},
      {[cache: A, leeway: -1], ~r/option :leeway: expected a non-negative integer .* got -1$/},
      {[cache: A, algs: ["HS256"]],
       ~r/option :algs: expected .* RS256, .* EdDSA, got \["HS256"\]$/},
      {[cache: A, algs: []], ~r/option :algs: expected a non-empty list/},
      {[cache: A, iss: 42],
       ~r/option :iss: expected a non-empty binary or a non-empty list of them, got 42$/},
      {[cache: A, iss: []], ~r/option :iss: expected a non-empty binary/},
      {[cache: A, aud: []], ~r/option :aud: expected a non-empty binary/},
      {[cache: A, aud: [:x]], ~r/option :aud: expected/},
      {[cache: A, required: "exp"], ~r/option :required: expected a list of non-empty binaries/},
      {[cache: A, typ: 1], ~r/option :typ: expected a non-empty binary/},
      {[cache: A, max_token_bytes: 0], ~r/option :max_token_bytes: expected a positive integer/},
      {[cache: A, assign: "user"], ~r/option :assign: expected an atom .* got "user"$/},
      {[cache: A, public_paths: "/public"], ~r/option :public_paths: expected a list of paths/},
      {[cache: A, public_paths: ["public"]], ~r/expected paths that start with \//},
      {[cache: A, public_paths: [42]], ~r/expected paths that start with \/, got 42/},
      {[cache: A, public_paths: ["/a/*/b"]], ~r/\* only as a last segment/},
      {[cache: A, public_paths: ["/a/../b"]], ~r/no \. or \.\. segments/},
      {[cache: A, skip: &String.length/1], ~r/option :skip: expected a {Module, Function} tuple/},
      {[cache: A, on_error: :nope],
       ~r/option :on_error: expected a {Module, Function} tuple, got :nope$/},
      {[cache: A, unavailable_status: 99],
       ~r/option :unavailable_status: expected a 5xx .* got 99$/},
      {[cache: A, unavailable_status: 200], ~r/option :unavailable_status: expected a 5xx/},
      {[cache: A, unavailable_status: 401], ~r/option :unavailable_status: expected a 5xx/},
      {[cache: A, realm: ~s(a"b)], ~r/option :realm: expected a string of printable ASCII/},
      {[cache: A, scopes: "read"], ~r/option :scopes: expected a list of scopes, .* got "read"$/},
      {[cache: A, scopes: [""]], ~r/option :scopes: expected a list of scopes, .* got ""$/},
      {[cache: A, scopes: ["read write"]], ~r/option :scopes: .* got "read write"$/},
      {[cache: A, scopes: [~s(a"b)]], ~r/option :scopes: expected a list of scopes/},
      {[cache: A, scopes: [:read]], ~r/option :scopes: .* got :read$/},
      {[:cache],
       ~r/bad argument options: expected {Key, Value} pairs with an atom key, got :cache$/},
      {:cache,
       ~r/bad argument options: expected a list of {Key, Value} pairs or a map, got :cache$/}
    ]

    test "refuses a reference that is no key set (every request would fail)" do
      assert_raise ArgumentError,
                   ~r/option :key_set: expected a key set from .* got #Reference/,
                   fn ->
                     JwksVerify.call(fn -> Guard.init(key_set: make_ref()) end)
                   end
    end

    for {opts, message} <- @bad do
      test "refuses #{inspect(opts)}" do
        assert {:badarg, %{message: erlang_message}} =
                 catch_error(Guard.init(unquote(Macro.escape(opts))))

        assert is_binary(erlang_message)
        # The Elixir face says the same in Elixir syntax.
        assert_raise ArgumentError, unquote(Macro.escape(message)), fn ->
          JwksVerify.call(fn -> Guard.init(unquote(Macro.escape(opts))) end)
        end
      end
    end
  end

  # The reason atoms of a module's `reason` type (tuples by their tag).
  defp typed_reasons(module) do
    {:ok, types} = Code.Typespec.fetch_types(module)

    {_, {:reason, {:type, _, :union, members}, []}} =
      Enum.find(types, &match?({kind, {:reason, _, _}} when kind in [:type, :opaque], &1))

    for member <- members do
      case member do
        {:atom, _, atom} -> atom
        {:type, _, :tuple, [{:atom, _, tag}, _]} -> tag
      end
    end
  end

  defp plain?(t) when is_map(t), do: t |> Map.to_list() |> plain?()
  defp plain?(t) when is_list(t), do: Enum.all?(t, &plain?/1)
  defp plain?(t) when is_tuple(t), do: t |> Tuple.to_list() |> plain?()

  defp plain?(t),
    do: is_atom(t) or is_number(t) or is_binary(t)
end
