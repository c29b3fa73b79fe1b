# Guards the request-path decision that JwksVerify.Plug and :jwks_verify_httpd
# share: bearer-token parsing per RFC 6750 §2.1, the status, challenge and body
# of every refusal (§3, §3.1), the details string of every reason, public
# paths, and the claims handed on. Tokens are signed by :public_key.
defmodule JwksVerify.Plug.CoreTest do
  use ExUnit.Case, async: true

  import JwksVerify.TokenHelpers
  import JwksVerify.PlugTestHelpers

  alias JwksVerify.Plug.Core

  doctest Core

  setup_all do
    key = rsa_key()
    {:ok, ks} = JwksVerify.key_set(jwks_for([{key, "k1"}]))

    config =
      Core.init(key_set: ks, iss: iss(), aud: aud(), public_paths: ["/public", "/assets/*"])

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
        assert Core.bearer([{"authorization", unquote(value)}]) == {:ok, unquote(token)}
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
        assert Core.bearer(unquote(Macro.escape(headers))) == {:error, unquote(reason)}
      end
    end
  end

  describe "decide/3 without a usable bearer header" do
    test "no token: 401, a challenge without an error code (RFC 6750 §3.1)", %{config: c} do
      for headers <- [[], [{"authorization", "Basic dXNlcjpwYXNz"}]] do
        assert {:error, 401, hs, body} = Core.decide(c, headers, "/api/protected")
        assert header(hs, "www-authenticate") == ["Bearer"]
        assert header(hs, "content-type") == ["application/json"]
        assert body == ~s({"details":"missing bearer token","error":"Unauthorized"})
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
        assert {:error, 400, hs, body} = Core.decide(c, headers, "/api/protected")

        assert header(hs, "www-authenticate") == [
                 ~s(Bearer error="invalid_request", error_description="#{details}")
               ]

        assert decode_json(body) == %{"error" => "Bad Request", "details" => details}
      end
    end
  end

  describe "decide/3 with a token" do
    test "a valid token gives exactly its claims", %{config: c, key: key} do
      claims =
        claims(%{
          "roles" => ["admin", "ops"],
          "profile" => %{"name" => "Zoë \"Z\"", "verified" => true, "nick" => :null},
          "big" => 9_007_199_254_740_993,
          "ratio" => 0.5
        })

      token = rs256(key, "k1", claims)

      assert {:ok, got} = Core.decide(c, bearer_headers(token), "/api/protected")

      assert got == claims

      assert Core.decide(c, [{"authorization", "bearer " <> token}], "/api/x") == {:ok, got}
    end

    test "each refused token: 401 invalid_token with its details", %{config: c} = ctx do
      %{key: key, other: other} = ctx
      valid = rs256(key, "k1", claims())
      {h, p, s} = segments(valid)
      tampered_payload = b64(:jiffy.encode(claims(%{"sub" => "admin"})))

      cases = [
        {"token expired", rs256(key, "k1", claims(%{"exp" => now() - 60}))},
        {"token not yet valid", rs256(key, "k1", claims(%{"nbf" => now() + 600}))},
        {"token issued in the future", rs256(key, "k1", claims(%{"iat" => now() + 600}))},
        {"invalid issuer", rs256(key, "k1", claims(%{"iss" => "https://evil.test/"}))},
        {"invalid audience", rs256(key, "k1", claims(%{"aud" => "other-api"}))},
        {"missing claim: exp", rs256(key, "k1", Map.delete(claims(), "exp"))},
        {"invalid claim: exp", rs256(key, "k1", claims(%{"exp" => "tomorrow"}))},
        {"invalid signature", h <> "." <> tampered_payload <> "." <> s},
        {"invalid signature", rs256(other, "k1", claims())},
        {"invalid signature", flip_signature_bit(valid)},
        {"unknown key id", rs256(other, "k2", claims())},
        {"malformed token", h <> "." <> p},
        {"invalid base64url encoding", h <> "." <> p <> "." <> s <> "="},
        {"unsigned token", unsigned_token(~s({"alg":"none"}), :jiffy.encode(claims()))},
        {"unsupported algorithm", hs256_token("secret", claims())},
        {"embedded key not allowed",
         token(key, "RS256", claims(), %{"kid" => "k1", "jku" => "https://evil.test/"})}
      ]

      for {details, token} <- cases do
        assert {:error, 401, hs, body} = Core.decide(c, bearer_headers(token), "/api/protected"),
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
      c = Core.init(key_set: ks, algs: ["ES256"])
      assert {:error, 401, _, body} = Core.decide(c, bearer_headers(token), "/")
      assert decode_json(body)["details"] == "algorithm not allowed"

      c = Core.init(key_set: ks, max_token_bytes: 100)
      assert {:error, 401, _, body} = Core.decide(c, bearer_headers(token), "/")
      assert decode_json(body)["details"] == "token too large"
    end

    test "typ, required and leeway reach the verifier", %{ks: ks, key: key} do
      token = rs256(key, "k1", claims(%{"exp" => now() - 5}))

      assert {:ok, _} =
               Core.decide(Core.init(key_set: ks, leeway: 60), bearer_headers(token), "/")

      token = rs256(key, "k1", claims())
      c = Core.init(key_set: ks, required: ["exp", "scope"])
      assert {:error, 401, _, body} = Core.decide(c, bearer_headers(token), "/")
      assert decode_json(body)["details"] == "missing claim: scope"

      c = Core.init(key_set: ks, typ: "at+jwt")
      assert {:error, 401, _, body} = Core.decide(c, bearer_headers(token), "/")
      assert decode_json(body)["details"] == "invalid token type"
    end
  end

  describe "response/2" do
    test "every reason of JwksVerify has its own details string" do
      table = Core.reasons()

      for reason <- typed_reasons() do
        assert Map.has_key?(table, reason), "no details string for #{inspect(reason)}"
      end

      strings = Map.values(table)
      assert length(strings) == length(Enum.uniq(strings))
      assert Enum.all?(strings, &(&1 =~ ~r/^[a-z][a-z0-9 ]*[a-z]$/))
    end

    test "every reason atom the NIF returns has its own details string" do
      for reason <- JwksVerify.reasons() do
        assert Map.has_key?(Core.reasons(), reason), "no details string for #{inspect(reason)}"
      end
    end

    test "the status and challenge of every reason", %{config: c} do
      for {reason, details} <- Core.reasons() do
        {:error, status, hs, body} = Core.response(c, reason)
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

          :internal_error ->
            assert {status, challenge} == {500, nil}

          _ ->
            assert status == 401

            assert challenge ==
                     ~s(Bearer error="invalid_token", error_description="#{details}")
        end
      end
    end

    test "claim names are kept in details, made header-safe", %{config: c} do
      assert Core.details({:missing_claim, "aud"}) == "missing claim: aud"
      assert Core.details({:invalid_claim, "nbf"}) == "invalid claim: nbf"
      {:error, 401, hs, _} = Core.response(c, {:missing_claim, ~s(a"b\\c\n)})

      assert header(hs, "www-authenticate") == [
               ~s(Bearer error="invalid_token", error_description="missing claim: a?b?c?")
             ]
    end

    test "an unknown reason is an invalid token, not a crash", %{config: c} do
      assert {:error, 401, _, body} = Core.response(c, :some_future_reason)
      assert decode_json(body)["details"] == "invalid token"
    end

    test "unavailable_status is configurable; 401 brings a challenge", %{ks: ks} do
      c = Core.init(key_set: ks, unavailable_status: 401)
      assert {:error, 401, hs, body} = Core.response(c, :jwks_unavailable)

      assert header(hs, "www-authenticate") == [
               ~s(Bearer error="invalid_token", error_description="jwks unavailable")
             ]

      assert decode_json(body) == %{"error" => "Unauthorized", "details" => "jwks unavailable"}
    end

    test "a realm goes first in every challenge", %{ks: ks} do
      c = Core.init(key_set: ks, realm: "api")
      {:error, 401, hs, _} = Core.response(c, :missing_token)
      assert header(hs, "www-authenticate") == [~s(Bearer realm="api")]
      {:error, 401, hs, _} = Core.response(c, :expired)

      assert header(hs, "www-authenticate") == [
               ~s(Bearer realm="api", error="invalid_token", error_description="token expired")
             ]
    end
  end

  describe "public paths" do
    test "exact and prefix paths are skipped, segment by segment", %{config: c} do
      for path <- ["/public", "/public/", "//public", "/assets", "/assets/app.js", "/assets/a/b"] do
        assert Core.decide(c, [], path) == :skip, path
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
        assert {:error, 401, _, _} = Core.decide(c, [], path), path
      end
    end

    test "a public path needs no token even when a bad one is sent", %{config: c} do
      assert Core.decide(c, [{"authorization", "Bearer junk"}], "/public") == :skip
    end

    test "a skip predicate", %{ks: ks} do
      c = Core.init(key_set: ks, skip: {__MODULE__, :health?})
      assert Core.decide(c, [], "/healthz") == :skip
      assert {:error, 401, _, _} = Core.decide(c, [], "/api")
    end
  end

  def health?(path), do: path == "/healthz"

  describe "init/1" do
    test "returns plain data, defaults filled in" do
      c = Core.init(cache: MyApp.Jwks, iss: "https://i/", aud: ["a", "b"])
      assert %{keys: MyApp.Jwks, assign: :current_user, unavailable_status: 503} = c
      assert %{public: [], skip: nil, on_error: nil, realm: nil} = c
      assert plain?(c)
    end

    test "takes a map or a proplist, as Erlang callers give them" do
      assert Core.init(%{cache: :my_jwks}).keys == :my_jwks

      assert Core.init([{:cache, :my_jwks}, {:public_paths, [~c"/public"]}]).public == [
               {:exact, ["public"]}
             ]
    end

    @bad [
      {[], ~r/:cache option .* is required/},
      {[cache: "MyApp.Jwks"], ~r/:cache must be the atom/},
      {[cache: A, key_set: :not_a_key_set], ~r/not both/},
      {[key_set: :not_a_key_set], ~r/:key_set must come from/},
      {[cache: A, bogus: 1], ~r/unknown option :bogus/},
      {[cache: A, now: 1], ~r/unknown option :now/},
      {[cache: A, leeway: -1], ~r/leeway/},
      {[cache: A, algs: ["HS256"]], ~r/HS256/},
      {[cache: A, iss: 42], ~r/iss/},
      {[cache: A, assign: "user"], ~r/:assign must be an atom/},
      {[cache: A, public_paths: "/public"], ~r/:public_paths must be a list/},
      {[cache: A, public_paths: ["public"]], ~r/must start with "\/"/},
      {[cache: A, public_paths: ["/a/*/b"]], ~r/\* only at the end/},
      {[cache: A, public_paths: ["/a/../b"]], ~r/no \. or \.\. segments/},
      {[cache: A, skip: &String.length/1], ~r/:skip must be a {module, function}/},
      {[cache: A, on_error: :nope], ~r/:on_error must be a {module, function}/},
      {[cache: A, unavailable_status: 99], ~r/:unavailable_status/},
      {[cache: A, realm: ~s(a"b)], ~r/:realm/},
      {[:cache], ~r/keyword list/}
    ]

    for {opts, message} <- @bad do
      test "refuses #{inspect(opts)}" do
        assert_raise ArgumentError, unquote(Macro.escape(message)), fn ->
          Core.init(unquote(Macro.escape(opts)))
        end
      end
    end
  end

  describe "encode_json/1" do
    test "escapes what JSON needs escaped and keeps UTF-8" do
      s = "q\" b\\ n\n r\r t\t nul\0 del\x7F é 😀 \x1F"
      assert :jiffy.decode(Core.encode_json(%{"s" => s}), [:return_maps]) == %{"s" => s}
      assert Core.encode_json("\0\x1F") == ~s("\\u0000\\u001F")
    end

    test "numbers, literals, nesting, order" do
      term = %{"b" => [1, -2, 1.5, 1.0e100, true, false, nil, :null], "a" => %{}, "c" => []}

      assert Core.encode_json(term) ==
               ~s({"a":{},"b":[1,-2,1.5,1.0e100,true,false,null,null],"c":[]})

      assert :jiffy.decode(Core.encode_json(term), [:return_maps]) ==
               %{"a" => %{}, "b" => [1, -2, 1.5, 1.0e100, true, false, :null, :null], "c" => []}
    end

    test "refuses what is not JSON" do
      assert_raise ArgumentError, fn -> Core.encode_json(<<0xFF>>) end
      assert_raise ArgumentError, fn -> Core.encode_json({1, 2}) end
      assert_raise ArgumentError, fn -> Core.encode_json(%{1 => 2}) end
    end
  end

  # The reason atoms of JwksVerify's @type reason (tuples by their tag).
  defp typed_reasons do
    {:ok, types} = Code.Typespec.fetch_types(JwksVerify)

    {:type, {:reason, {:type, _, :union, members}, []}} =
      Enum.find(types, &match?({:type, {:reason, _, _}}, &1))

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
