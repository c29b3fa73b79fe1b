# Guards JwksVerify.Test (and :jwks_verify_test under it), the test-token
# module for users' own suites: an issuer started under ExUnit's supervisor
# serves its JWKS from a real JwksVerify.Cache under the chosen name, is
# stopped with the test, and signs (with :public_key, never our NIF) tokens
# whose defaults JwksVerify.Plug accepts when configured with iss/0 and aud/0;
# overrides, nil removals, extra header members, kid, the key and alg
# options, child_spec/1, and the ArgumentErrors. The Erlang face is run as an
# Erlang user runs it by test/erl/jwks_verify_test_tests.erl (last describe).
# Conns are plain maps, as in plug_test.exs: Plug is not installed here.
defmodule JwksVerify.TestTest do
  use ExUnit.Case, async: true

  import JwksVerify.TokenHelpers, only: [segments: 1, header_of: 1, unb64!: 1, fixture_path: 1]

  alias JwksVerify.Test, as: T

  doctest JwksVerify.Test

  defp payload_of(token) do
    {_, p, _} = segments(token)
    :jiffy.decode(unb64!(p), [:return_maps])
  end

  defp conn(headers, path \\ "/api/protected"),
    do: %{req_headers: headers, request_path: path, assigns: %{}, halted: false}

  # The Plug's refusal without Plug.Conn (not installed): kept in assigns.
  def on_error(conn, refusal), do: %{conn | assigns: Map.put(conn.assigns, :refusal, refusal)}

  defp plug(issuer_or_opts, headers) do
    opts = if is_map(issuer_or_opts), do: T.plug_opts(issuer_or_opts), else: issuer_or_opts
    config = JwksVerify.Plug.init(opts ++ [on_error: {__MODULE__, :on_error}])
    JwksVerify.Plug.call(conn(headers), config)
  end

  defp refusal(conn) do
    assert conn.halted
    %{reason: reason, status: status} = conn.assigns.refusal
    {status, reason}
  end

  defp now, do: System.system_time(:second)

  describe "start_issuer!/1 and sign/3: the three-line controller test" do
    test "a token the Plug, configured with the default iss and aud, lets through" do
      issuer = T.start_issuer!(name: JwksVerify.TestTest.Jwks)
      token = T.sign(issuer, %{"sub" => "user-7"})
      headers = [{"authorization", "Bearer " <> token}]

      # A Plug configured by hand, as the app's test config would: the
      # literal defaults, no algs (RS256 is the default of both).
      conn =
        plug(
          [cache: JwksVerify.TestTest.Jwks, iss: "https://issuer.test/", aud: "api.test"],
          headers
        )

      refute conn.halted

      assert %{"sub" => "user-7", "iss" => "https://issuer.test/", "aud" => "api.test"} =
               conn.assigns.current_user
    end

    test "the defaults: iss, aud, sub, iat now, exp in an hour; header alg, kid, typ" do
      issuer = T.start_issuer!()
      before = now()
      token = T.sign(issuer)
      claims = payload_of(token)

      assert Map.keys(claims) |> Enum.sort() == ~w(aud exp iat iss sub)
      assert claims["iss"] == T.iss() and T.iss() == "https://issuer.test/"
      assert claims["aud"] == T.aud() and T.aud() == "api.test"
      assert claims["sub"] == T.sub() and T.sub() == "user-1"
      assert claims["iat"] in before..now()
      assert claims["exp"] == claims["iat"] + 3600

      assert header_of(token) == %{"alg" => "RS256", "kid" => issuer.kid, "typ" => "JWT"}
      assert is_binary(issuer.kid) and byte_size(issuer.kid) == 43
      assert issuer.alg == "RS256"
      assert {:ok, ^claims} = JwksVerify.verify(token, issuer.name, iss: T.iss(), aud: T.aud())
    end

    test "the cache runs under the name, serving the issuer's public JWKS only" do
      issuer = T.start_issuer!(name: JwksVerify.TestTest.Served)
      assert issuer.name == JwksVerify.TestTest.Served
      assert JwksVerify.Cache.status(JwksVerify.TestTest.Served) == :fresh
      assert %{kids: [kid], key_count: 1} = JwksVerify.Cache.info(JwksVerify.TestTest.Served)
      assert kid == issuer.kid

      %{"keys" => [jwk]} = :jiffy.decode(T.jwks(issuer), [:return_maps])
      assert Map.keys(jwk) |> Enum.sort() == ~w(alg e kid kty n use)
      assert %{"kty" => "RSA", "alg" => "RS256", "use" => "sig"} = jwk
    end

    test "the cache stops with the test" do
      name = JwksVerify.TestTest.Stopped
      # on_exit runs after ExUnit has shut down the test's supervised children.
      on_exit(fn -> assert Process.whereis(name) == nil end)
      T.start_issuer!(name: name)
      assert is_pid(Process.whereis(name))
    end

    test "generated names differ, so issuers sit side by side" do
      a = T.start_issuer!(alg: "EdDSA")
      b = T.start_issuer!(alg: "EdDSA")
      assert a.name != b.name
      assert "jwks_verify_test_" <> _ = Atom.to_string(a.name)
      # Each cache knows its own key only.
      assert {:error, :unknown_kid} = JwksVerify.verify(T.sign(a), b.name, plug_opts_kw(b))
      assert {:ok, _} = JwksVerify.verify(T.sign(a), a.name, plug_opts_kw(a))
    end

    test "a taken name raises, saying why" do
      T.start_issuer!(name: JwksVerify.TestTest.Taken, alg: "EdDSA")

      assert_raise ArgumentError,
                   ~r/JwksVerify.TestTest.Taken is already registered.*async: false/s,
                   fn ->
                     T.start_issuer!(name: JwksVerify.TestTest.Taken, alg: "EdDSA")
                   end
    end
  end

  defp plug_opts_kw(issuer), do: Keyword.delete(T.plug_opts(issuer), :cache)

  describe "authorization_header/3 and refusals through the Plug" do
    setup do
      %{issuer: T.start_issuer!()}
    end

    test "gives the header tuple the Plug reads", %{issuer: issuer} do
      assert {"authorization", "Bearer " <> token} =
               header = T.authorization_header(issuer, %{"scope" => "read"})

      assert payload_of(token)["scope"] == "read"
      conn = plug(issuer, [header])
      assert %{"scope" => "read", "sub" => "user-1"} = conn.assigns.current_user
    end

    test "claim overrides make the tokens the Plug must refuse", %{issuer: issuer} do
      for {claims, reason} <- [
            {%{"exp" => now() - 60}, :expired},
            {%{"nbf" => now() + 600}, :not_yet_valid},
            {%{"aud" => "other-api"}, :invalid_audience},
            {%{"iss" => "https://evil.test/"}, :invalid_issuer},
            {%{"exp" => nil}, {:missing_claim, "exp"}}
          ] do
        assert refusal(plug(issuer, [T.authorization_header(issuer, claims)])) == {401, reason},
               inspect(claims)
      end
    end

    test "a token signed by another issuer's key is refused", %{issuer: issuer} do
      stranger = T.new_issuer()
      assert refusal(plug(issuer, [T.authorization_header(stranger)])) == {401, :unknown_kid}
      # Same kid, other key: the signature fails.
      impostor = T.new_issuer(kid: issuer.kid)
      assert refusal(plug(issuer, [T.authorization_header(impostor)])) == {401, :bad_signature}
    end

    test "stop_issuer/1: the key set is gone, the Plug answers 503", %{issuer: issuer} do
      header = T.authorization_header(issuer)
      refute plug(issuer, [header]).halted
      assert T.stop_issuer(issuer) == :ok
      assert refusal(plug(issuer, [header])) == {503, :jwks_unavailable}
    end
  end

  describe "claims and sign options" do
    setup do
      %{issuer: T.new_issuer(alg: "ES256")}
    end

    test "atom and string keys merge into one claim each", %{issuer: issuer} do
      token = T.sign(issuer, %{:sub => "alice", "scope" => "a b", :roles => ["x"]})
      {_, p, _} = segments(token)
      json = unb64!(p)
      assert length(Regex.scan(~r/"sub"/, json)) == 1
      assert %{"sub" => "alice", "scope" => "a b", "roles" => ["x"]} = payload_of(token)
    end

    test "nil leaves a claim out; nested nil is JSON null", %{issuer: issuer} do
      claims = payload_of(T.sign(issuer, %{"aud" => nil, "sub" => nil, "ext" => %{"x" => nil}}))
      refute Map.has_key?(claims, "aud")
      refute Map.has_key?(claims, "sub")
      assert claims["ext"] == %{"x" => :null}
    end

    test "claims/3 is what sign/3 signs; :now moves iat and exp", %{issuer: issuer} do
      claims = T.claims(issuer, %{"jti" => "1"}, now: 1_700_000_000)

      assert claims == %{
               "iss" => "https://issuer.test/",
               "aud" => "api.test",
               "sub" => "user-1",
               "iat" => 1_700_000_000,
               "exp" => 1_700_003_600,
               "jti" => "1"
             }

      assert payload_of(T.sign(issuer, %{"jti" => "1"}, now: 1_700_000_000)) == claims
    end

    test ":header adds and removes members, :kid replaces the kid", %{issuer: issuer} do
      token = T.sign(issuer, %{}, header: %{"typ" => "at+jwt", "x5t" => "abc", cty: "JWT"})

      assert header_of(token) == %{
               "alg" => "ES256",
               "kid" => issuer.kid,
               "typ" => "at+jwt",
               "x5t" => "abc",
               "cty" => "JWT"
             }

      assert header_of(T.sign(issuer, %{}, header: %{"typ" => nil})) ==
               %{"alg" => "ES256", "kid" => issuer.kid}

      assert header_of(T.sign(issuer, %{}, kid: "other"))["kid"] == "other"
      refute Map.has_key?(header_of(T.sign(issuer, %{}, kid: nil)), "kid")
    end

    test "a Plug with :typ accepts the header's typ", %{issuer: _} do
      issuer = T.start_issuer!(alg: "EdDSA")
      at = T.authorization_header(issuer, %{}, header: %{"typ" => "at+jwt"})
      refute plug(T.plug_opts(issuer) ++ [typ: "at+jwt"], [at]).halted

      assert refusal(
               plug(T.plug_opts(issuer) ++ [typ: "at+jwt"], [T.authorization_header(issuer)])
             ) ==
               {401, :invalid_typ}
    end
  end

  describe "issuer options" do
    for alg <- ~w(ES256 ES384 EdDSA PS256) do
      test "#{alg}: the JWKS, the header and plug_opts/1 agree; the Plug accepts" do
        issuer = T.start_issuer!(alg: unquote(alg))
        assert issuer.alg == unquote(alg)
        assert header_of(T.sign(issuer))["alg"] == unquote(alg)

        assert %{"keys" => [%{"alg" => unquote(alg)}]} =
                 :jiffy.decode(T.jwks(issuer), [:return_maps])

        assert T.plug_opts(issuer)[:algs] == [unquote(alg)]
        refute plug(issuer, [T.authorization_header(issuer)]).halted
      end
    end

    test "a non-RS256 issuer needs :algs in the Plug" do
      issuer = T.start_issuer!(alg: "ES256")
      opts = Keyword.delete(T.plug_opts(issuer), :algs)
      assert refusal(plug(opts, [T.authorization_header(issuer)])) == {401, :alg_not_allowed}
    end

    test ":iss, :aud and :sub set the defaults and plug_opts/1" do
      issuer =
        T.start_issuer!(
          alg: "EdDSA",
          iss: "https://issuer.example/",
          aud: ["my-api", "other"],
          sub: "svc"
        )

      assert T.plug_opts(issuer) == [
               cache: issuer.name,
               iss: "https://issuer.example/",
               aud: ["my-api", "other"],
               algs: ["EdDSA"]
             ]

      assert %{"iss" => "https://issuer.example/", "aud" => ["my-api", "other"], "sub" => "svc"} =
               plug(issuer, [T.authorization_header(issuer)]).assigns.current_user

      # The default audience is not the app's: refused.
      opts = T.plug_opts(issuer) |> Keyword.put(:aud, "api.test")
      assert refusal(plug(opts, [T.authorization_header(issuer)])) == {401, :invalid_audience}
    end

    test ":kid names the key; nil makes a key and tokens without one" do
      issuer = T.new_issuer(alg: "EdDSA", kid: "k1")
      assert issuer.kid == "k1"
      assert header_of(T.sign(issuer))["kid"] == "k1"
      assert %{"keys" => [%{"kid" => "k1"}]} = :jiffy.decode(T.jwks(issuer), [:return_maps])

      bare = T.start_issuer!(alg: "EdDSA", kid: nil)
      assert bare.kid == :undefined
      refute Map.has_key?(header_of(T.sign(bare)), "kid")
      refute T.jwks(bare) =~ "kid"
      refute plug(bare, [T.authorization_header(bare)]).halted
    end

    test ":key takes a PEM private key: the same key, kid and tokens every run" do
      pem = File.read!(fixture_path("keys/ec256.pem"))
      a = T.new_issuer(key: pem)
      b = T.start_issuer!(key: pem)
      assert a.alg == "ES256"
      assert a.kid == b.kid
      assert T.jwks(a) == T.jwks(b)
      refute plug(b, [T.authorization_header(a)]).halted

      rsa =
        T.new_issuer(key: File.read!(fixture_path("keys/rsa2048.pem")), alg: "PS256", kid: "r")

      assert {rsa.alg, rsa.kid} == {"PS256", "r"}
      assert header_of(T.sign(rsa))["alg"] == "PS256"
    end

    test ":key takes a :jwks_verify_signer key" do
      key = :jwks_verify_signer.generate_key("EdDSA", %{kid: "signer-kid"})
      issuer = T.new_issuer(key: key)
      assert {issuer.alg, issuer.kid} == {"EdDSA", "signer-kid"}
      assert T.jwks(issuer) == :jwks_verify_signer.jwks([key])
    end
  end

  describe "child_spec/1" do
    test "start_supervised!({JwksVerify.Test, issuer}) starts the cache; a stopped one stays stopped" do
      issuer = T.new_issuer(alg: "EdDSA", name: JwksVerify.TestTest.Child)
      assert Process.whereis(JwksVerify.TestTest.Child) == nil
      pid = start_supervised!({T, issuer})
      assert Process.whereis(JwksVerify.TestTest.Child) == pid

      assert %{restart: :temporary, id: {:jwks_verify_test, JwksVerify.TestTest.Child}} =
               T.child_spec(issuer)

      T.stop_issuer(issuer)
      # A permanent child would be restarted by ExUnit's supervisor by now.
      Process.sleep(50)
      assert Process.whereis(JwksVerify.TestTest.Child) == nil
    end
  end

  describe "tokens come from :public_key" do
    test "an RS256 and an EdDSA signature verify with :public_key.verify alone" do
      for {alg, digest} <- [{"RS256", :sha256}, {"EdDSA", :none}] do
        issuer = T.new_issuer(alg: alg)
        {h, p, s} = segments(T.sign(issuer))
        public = :jwks_verify_signer.public_key(issuer.key)
        assert :public_key.verify(h <> "." <> p, digest, unb64!(s), public), alg
      end
    end

    test "signing loads no NIF code path: jwks_verify_test calls jwks_verify_signer, not jwks_verify" do
      {:ok, {_, [imports: imports]}} =
        :beam_lib.chunks(:code.which(:jwks_verify_test), [:imports])

      modules = imports |> Enum.map(&elem(&1, 0)) |> Enum.uniq()
      assert :jwks_verify_signer in modules
      refute :jwks_verify in modules
      refute :jwks_verify_nif in modules
    end
  end

  describe "errors" do
    test "bad options and arguments raise ArgumentError" do
      for {fun, message} <- [
            {fn -> T.new_issuer(algs: "ES256") end,
             ~r/unknown option :algs \(did you mean :alg\?\)/},
            {fn -> T.new_issuer(alg: "HS256") end,
             ~r/option :alg: expected one of RS256, .*got "HS256"/},
            {fn ->
               T.new_issuer(alg: "ES384", key: File.read!(fixture_path("keys/ec256.pem")))
             end,
             ~r/option :alg: expected an algorithm the key signs with \(the key is EC P-256\)/},
            {fn -> T.new_issuer(key: "not a pem") end,
             ~r/option :key: expected a PEM private key/},
            {fn -> T.new_issuer(key: File.read!(fixture_path("keys/ec256.pub.pem"))) end,
             ~r/option :key: expected a PEM private key/},
            {fn -> T.new_issuer(name: "MyApp.Jwks") end, ~r/option :name: expected an atom/},
            {fn -> T.new_issuer(aud: []) end,
             ~r/option :aud: expected a binary or a non-empty list/},
            {fn -> T.new_issuer(kid: 1) end, ~r/option :kid: expected a binary/},
            {fn -> T.sign(%{}) end, ~r/bad argument issuer: expected an issuer/},
            {fn -> T.sign(T.new_issuer(alg: "EdDSA"), sub: "x") end,
             ~r/bad argument claims: expected a map/},
            {fn -> T.sign(T.new_issuer(alg: "EdDSA"), %{}, now: "now") end,
             ~r/option :now: expected an integer/},
            {fn -> T.sign(T.new_issuer(alg: "EdDSA"), %{}, ttl: 5) end, ~r/unknown option :ttl/}
          ] do
        assert_raise ArgumentError, message, fun
      end
    end
  end

  describe "the Erlang face" do
    test "jwks_verify_test_tests (EUnit) passes" do
      assert :eunit.test(:jwks_verify_test_tests, [:verbose]) == :ok
    end

    test "EUnit finds no tests in jwks_verify_test itself (rebar3 eunit runs every module)" do
      names = for {name, 0} <- :jwks_verify_test.module_info(:exports), do: Atom.to_string(name)

      refute Enum.any?(
               names,
               &(String.ends_with?(&1, "_test") or String.ends_with?(&1, "_test_"))
             )
    end
  end
end
