# Guards the Plug layer: the module compiles and loads without Plug installed,
# init/1 validates options and returns data Phoenix can compile into a router,
# and call/2 hands the guard's decision to the conn. The decisions themselves
# are tested in guard_test.exs (:jwks_verify_guard). Without Plug here, conns are plain maps
# with the fields call/2 reads and writes (req_headers, request_path, assigns,
# halted); the default error response, three Plug.Conn calls, needs Plug.
defmodule JwksVerify.PlugTest do
  use ExUnit.Case, async: true

  import JwksVerify.TokenHelpers
  import JwksVerify.PlugTestHelpers

  doctest JwksVerify.Plug

  setup_all do
    key = rsa_key()
    {:ok, ks} = JwksVerify.key_set(jwks_for([{key, "k1"}]))
    # As a user's suite does: a JwksVerify.Test issuer and its cache, for the
    # whole module.
    %{key: key, ks: ks, issuer: JwksVerify.Test.start_issuer!()}
  end

  describe "the module" do
    test "loads without Plug, declaring the behaviour only when Plug is there" do
      assert Code.ensure_loaded?(JwksVerify.Plug)
      behaviours = Keyword.get_values(JwksVerify.Plug.module_info(:attributes), :behaviour)

      if Code.ensure_loaded?(Plug) do
        assert [Plug] in behaviours
      else
        assert behaviours == []
        assert function_exported?(JwksVerify.Plug, :init, 1)
        assert function_exported?(JwksVerify.Plug, :call, 2)
      end
    end
  end

  describe "init/1" do
    test "returns data that survives being compiled into a router" do
      opts = [
        cache: MyApp.Jwks,
        iss: "https://issuer.test/",
        aud: ["api.test", "other"],
        algs: ["RS256", "ES256"],
        leeway: 30,
        required: ["exp", "sub"],
        typ: "at+jwt",
        assign: :claims,
        public_paths: ["/public", "/assets/*"],
        skip: {__MODULE__, :never},
        on_error: {__MODULE__, :on_error},
        unavailable_status: 502,
        realm: "api"
      ]

      config = JwksVerify.Plug.init(opts)
      # What Phoenix does with plug options: Macro.escape/1 at compile time.
      {evaluated, _} = Code.eval_quoted(Macro.escape(config))
      assert evaluated == config
      assert config.keys == MyApp.Jwks
      assert config.assign == :claims
    end

    test "takes several caches, one per issuer, as plain data" do
      config = JwksVerify.Plug.init(cache: [MyApp.StaffJwks, MyApp.CustomerJwks], aud: "api")
      {evaluated, _} = Code.eval_quoted(Macro.escape(config))
      assert evaluated == config
      assert config.keys == [MyApp.StaffJwks, MyApp.CustomerJwks]

      assert_raise ArgumentError, ~r/give the option iss or several caches, not both/, fn ->
        JwksVerify.Plug.init(cache: [MyApp.StaffJwks, MyApp.CustomerJwks], iss: "https://i/")
      end
    end

    test "refuses a key set: it can't be compiled into a router", %{ks: ks} do
      assert_raise ArgumentError, ~r/takes :cache, not :key_set/, fn ->
        JwksVerify.Plug.init(key_set: ks)
      end

      assert_raise ArgumentError, ~r/takes :cache, not :key_set/, fn ->
        JwksVerify.Plug.init(%{cache: A, key_set: ks})
      end

      # Issue 14: any key_set, a reference that is no key set too.
      assert_raise ArgumentError, ~r/takes :cache, not :key_set/, fn ->
        JwksVerify.Plug.init(key_set: make_ref())
      end
    end

    test "is the guard's init: the same configuration" do
      opts = [cache: MyApp.Jwks, aud: "api.test", public_paths: ["/health"]]
      assert JwksVerify.Plug.init(opts) == :jwks_verify_guard.init(opts)
    end

    test "raises on unknown options and bad values" do
      # The guard's own description, in Elixir syntax, as the ArgumentError message.
      assert_raise ArgumentError,
                   ~r/^unknown option :jwks_uri; known options: :cache, /,
                   fn -> JwksVerify.Plug.init(cache: A, jwks_uri: "https://x") end

      assert_raise ArgumentError,
                   ~r/unknown option :audience \(did you mean :aud\?\)|unknown option :audience/,
                   fn ->
                     JwksVerify.Plug.init(cache: A, audience: "api")
                   end

      assert_raise ArgumentError, ~r/option cache .* is required/, fn ->
        JwksVerify.Plug.init([])
      end

      assert_raise ArgumentError, ~r/option :assign: expected an atom .* got 1$/, fn ->
        JwksVerify.Plug.init(cache: A, assign: 1)
      end

      # Issue 14: an outage must never answer 2xx; an empty audience list is no wildcard.
      assert_raise ArgumentError, ~r/option :unavailable_status: expected a 5xx/, fn ->
        JwksVerify.Plug.init(cache: A, unavailable_status: 200)
      end

      assert_raise ArgumentError, ~r/option :aud: expected a non-empty binary/, fn ->
        JwksVerify.Plug.init(cache: A, aud: [])
      end

      assert_raise ArgumentError, ~r/option :leeway: expected a non-negative integer/, fn ->
        JwksVerify.Plug.init(cache: A, leeway: -5)
      end
    end
  end

  describe "call/2" do
    # init/1 only takes a cache name; a key set reaches call/2 through the
    # guard's init, as the cache would hand one over.
    defp config(ks, extra \\ []), do: :jwks_verify_guard.init([key_set: ks, aud: aud()] ++ extra)

    defp conn(path, headers) do
      %{req_headers: headers, request_path: path, assigns: %{}, halted: false}
    end

    # init/1 with the cache of a JwksVerify.Test issuer, as a user's test has it.
    defp plug_config(issuer, extra \\ []),
      do: JwksVerify.Plug.init(JwksVerify.Test.plug_opts(issuer) ++ extra)

    test "a valid token: the claims in assigns.current_user, not halted", %{key: key, ks: ks} do
      claims = claims()
      conn = conn("/api/protected", bearer_headers(rs256(key, "k1", claims)))
      conn = JwksVerify.Plug.call(conn, config(ks))
      assert conn.assigns.current_user == claims
      refute conn.halted
    end

    test "a valid token through init/1 and a cache: a user's test", %{issuer: issuer} do
      claims = JwksVerify.Test.claims(issuer, %{"scope" => "read"})
      conn = conn("/api/protected", [JwksVerify.Test.authorization_header(issuer, claims)])
      conn = JwksVerify.Plug.call(conn, plug_config(issuer))
      assert conn.assigns.current_user == claims
      refute conn.halted
    end

    test "the :assign option names the assign", %{issuer: issuer} do
      conn = conn("/api", [JwksVerify.Test.authorization_header(issuer)])
      conn = JwksVerify.Plug.call(conn, plug_config(issuer, assign: :jwt_claims))
      assert %{"sub" => "user-1"} = conn.assigns.jwt_claims
      refute Map.has_key?(conn.assigns, :current_user)
    end

    test "a public path passes untouched", %{ks: ks} do
      conn = conn("/public", [])
      assert JwksVerify.Plug.call(conn, config(ks, public_paths: ["/public"])) == conn
    end

    test "on_error gets the conn and the refusal, and the conn is halted", %{ks: ks} do
      conn = conn("/api", [{"authorization", "Bearer not-a-jwt"}])
      conn = JwksVerify.Plug.call(conn, config(ks, on_error: {__MODULE__, :on_error}))
      assert conn.halted

      assert %{reason: :malformed_token, status: 401, body: body, headers: headers} =
               conn.assigns.refusal

      assert :jiffy.decode(body, [:return_maps]) ==
               %{"error" => "Unauthorized", "details" => "malformed token"}

      assert {"www-authenticate",
              ~s(Bearer error="invalid_token", error_description="malformed token")} in headers
    end
  end

  describe "call/2 with :scopes" do
    test "a valid token without a required scope: 403 insufficient_scope", %{key: key, ks: ks} do
      config =
        :jwks_verify_guard.init(
          key_set: ks,
          aud: aud(),
          scopes: ["read:orders"],
          on_error: {__MODULE__, :on_error}
        )

      token = rs256(key, "k1", claims(%{"scp" => ["read"]}))

      conn = %{
        req_headers: bearer_headers(token),
        request_path: "/api",
        assigns: %{},
        halted: false
      }

      conn = JwksVerify.Plug.call(conn, config)
      assert conn.halted
      refute Map.has_key?(conn.assigns, :current_user)

      assert %{reason: {:insufficient_scope, ["read:orders"]}, status: 403, body: body} =
               conn.assigns.refusal

      assert body == ~s({"error":"Forbidden","details":"insufficient scope"})

      assert {"www-authenticate", ~s(Bearer error="insufficient_scope", scope="read:orders")} in conn.assigns.refusal.headers

      token = rs256(key, "k1", claims(%{"scope" => "read:orders"}))
      conn = %{conn | req_headers: bearer_headers(token), halted: false, assigns: %{}}
      conn = JwksVerify.Plug.call(conn, config)
      refute conn.halted
      assert conn.assigns.current_user["scope"] == "read:orders"
    end

    test "init/1 takes :scopes as plain data" do
      config = JwksVerify.Plug.init(cache: MyApp.Jwks, scopes: ["read:orders", "write"])
      assert config.scopes == ["read:orders", "write"]

      assert_raise ArgumentError, ~r/option :scopes: expected a list of scopes/, fn ->
        JwksVerify.Plug.init(cache: MyApp.Jwks, scopes: "read:orders")
      end
    end
  end

  def never(_path), do: false
  def on_error(conn, refusal), do: %{conn | assigns: Map.put(conn.assigns, :refusal, refusal)}
end
