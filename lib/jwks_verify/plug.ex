defmodule JwksVerify.Plug do
  @moduledoc """
  A Plug that lets through requests carrying a valid bearer JWT and answers
  the others with `401` (or `400`, `403`, `503`: see Responses).

  It reads the token from the `authorization` header (RFC 6750 §2.1, scheme
  `Bearer` in any case), verifies it against a `JwksVerify.Cache` and puts
  the claims in `conn.assigns.current_user` (see `:assign`). Every decision is
  made by `:jwks_verify_guard`, a pure Erlang function of headers and path
  that `:jwks_verify_httpd` shares; this module is only the few `Plug.Conn`
  calls around it, and compiles and loads whether or not Plug is installed.

  ## Usage

  Start one cache per issuer in your application's supervision tree:

      children = [
        {JwksVerify.Cache,
         name: MyApp.Jwks, jwks_uri: "https://issuer.example/.well-known/jwks.json"},
        MyAppWeb.Endpoint
      ]

  then guard routes in the router:

      pipeline :jwt_auth do
        plug JwksVerify.Plug,
          cache: MyApp.Jwks,
          iss: "https://issuer.example/",
          aud: "my-api",
          public_paths: ["/api/health"]
      end

      scope "/api", MyAppWeb do
        pipe_through [:api, :jwt_auth]
        get "/protected", ProtectedController, :show
      end

  and read the verified claims in the controller:

      def show(conn, _params) do
        json(conn, %{message: "Access granted", user: conn.assigns.current_user})
      end

  ## Options

    * `:cache` - the name of a running `JwksVerify.Cache` (required). The
      cache is looked up by name on each request, so the router can be
      compiled before it starts. Or a list of names, one cache per issuer,
      each started with its `:issuer`, for several issuers behind one
      pipeline: the token's `iss`, read unverified, only picks the cache
      whose issuer it equals, and the token is then verified against that
      cache with that issuer (a `kid` two issuers share never selects the
      other's key). An `iss` that names none of them is `:invalid_issuer`;
      one that is not a string is refused before any cache is looked at.
      `:iss` is refused with a list: the caches' issuers are the accepted
      ones.

          plug JwksVerify.Plug,
            cache: [MyApp.StaffJwks, MyApp.CustomerJwks],
            aud: "my-api"
    * `:iss` - the accepted issuer (or a list). Set it: without it, a token
      from any issuer that shares the key set passes.
    * `:aud` - the accepted audience (or a list). Set it: without it, a token
      that names any audience is refused, and one without `aud` passes
      (`aud: :any` accepts every audience: unsafe).
    * `:algs` - allowed algorithms, defaults to `["RS256"]`.
    * `:leeway` - seconds of clock skew allowed for `exp`, `nbf` and `iat`,
      defaults to `0`.
    * `:required` - claims that must be present, defaults to `["exp"]`.
    * `:typ` - the required header `typ` (such as `"at+jwt"`), unchecked by
      default.
    * `:max_token_bytes` - longer tokens are refused unread, defaults to `32768`.
    * `:scopes` - scopes a valid token must all grant, such as
      `["read:orders"]`, in its `scope` claim (space-separated, RFC 9068
      §2.2.3) or `scp` (an array), compared whole by
      `JwksVerify.check_scopes/2` (`"read"` does not grant `"read:all"`); a
      token that lacks one gets `403`. Defaults to `[]`, no scope required.
    * `:assign` - the assign that receives the claims, defaults to
      `:current_user`.
    * `:public_paths` - full request paths that need no token: `"/api/health"`
      (that path only) or `"/assets/*"` (the path and everything below it).
      They are matched against `conn.request_path`, so a route inside
      `scope "/api"` is written with its `/api` prefix.
    * `:skip` - `{module, function}`, called as `module.function(path)`;
      `true` lets the request through without a token.
    * `:on_error` - `{module, function}`, called as
      `module.function(conn, %{reason: r, status: s, headers: h, body: b})`
      instead of sending the default response; it must send a response and
      return the conn, which is then halted.
    * `:unavailable_status` - the status when the key set can't be had,
      defaults to `503`.
    * `:realm` - a `realm` for the `WWW-Authenticate` challenge.

  `init/1` checks the options with `:jwks_verify_guard.init/1`, raises
  `ArgumentError` on an unknown option or a bad value, and returns plain
  data, so Phoenix can embed it in the compiled router.

  ## Responses

  A refused request is halted with a JSON body
  `{"error":"Unauthorized","details":"token expired"}` (the `details` strings
  are listed by `details/1` and `:jwks_verify_guard.reasons/0`) and, as
  RFC 6750 §3 asks:

    * no token (or another scheme such as `Basic`): `401`,
      `www-authenticate: Bearer`;
    * a malformed `authorization` header (two of them, `Bearer` with no
      token, whitespace inside the token): `400`,
      `www-authenticate: Bearer error="invalid_request", error_description="..."`;
    * a token that fails verification: `401`,
      `www-authenticate: Bearer error="invalid_token", error_description="..."`;
    * a valid token that lacks one of `:scopes`: `403`,
      `www-authenticate: Bearer error="insufficient_scope", scope="read:orders write"`
      (every required scope), body
      `{"error":"Forbidden","details":"insufficient scope"}`;
    * the key set can't be had: `503` (`:unavailable_status`), so an issuer
      outage is not blamed on the client.

  ## Security

    * Serve the API over HTTPS only: a bearer token is a password for its
      lifetime, and anyone who sees it can replay it (RFC 6750 §5.3).
    * Always set `:iss` and `:aud`. A signature only proves the issuer minted
      the token, not that it was minted for you.
    * Keep `:algs` to what your issuer signs with. `none` and HMAC
      algorithms are never accepted, whatever `:algs` says.
    * Keep tokens short-lived and `:leeway` small (seconds, not minutes):
      there is no revocation check, so a stolen token works until `exp`.
    * Tokens are read from the `authorization` header only, never from the
      query string, where they would end up in logs (RFC 6750 §2.3).
    * Don't log `conn.assigns.current_user` wholesale: claims often hold
      personal data.
    * The `details` string tells a client why its token was refused; if you
      prefer not to, answer generically with `:on_error`.
  """

  # Plug is optional: the behaviour is declared only where Plug is present,
  # and Plug.Conn is called at runtime, to send the default error response.
  if Code.ensure_loaded?(Plug), do: @behaviour(Plug)
  @compile {:no_warn_undefined, Plug.Conn}

  @doc """
  Checks the options with `:jwks_verify_guard.init/1`; the result is plain
  data. See the module docs.
  """
  @spec init(keyword()) :: :jwks_verify_guard.config()
  def init(opts) do
    if (is_list(opts) and List.keymember?(opts, :key_set, 0)) or
         (is_map(opts) and is_map_key(opts, :key_set)) do
      raise ArgumentError,
            "JwksVerify.Plug takes :cache, not :key_set: Phoenix compiles the options " <>
              "into the router, and a key set can't be compiled in. Start a JwksVerify.Cache " <>
              "(it also takes a static JWKS) and pass its name"
    end

    JwksVerify.call(fn -> :jwks_verify_guard.init(opts) end)
  end

  @doc """
  Verifies the request's bearer token; assigns the claims or halts.
  """
  @spec call(conn, :jwks_verify_guard.config()) :: conn when conn: map()
  def call(%{req_headers: headers, request_path: path} = conn, config) do
    case :jwks_verify_guard.decide(config, headers, path) do
      {:ok, claims} ->
        # What Plug.Conn.assign/3 does.
        %{conn | assigns: Map.put(conn.assigns, config.assign, claims)}

      :skip ->
        conn

      {:error, reason, response} ->
        refuse(conn, reason, response, config.on_error)
    end
  end

  @doc """
  The stable `details` string of a refusal reason, as the error body and
  `error_description` carry it (`:jwks_verify_guard.details/1`).

      iex> JwksVerify.Plug.details(:expired)
      "token expired"
      iex> JwksVerify.Plug.details({:missing_claim, "aud"})
      "missing claim: aud"
  """
  @spec details(:jwks_verify_guard.reason()) :: String.t()
  defdelegate details(reason), to: :jwks_verify_guard

  defp refuse(conn, reason, {status, headers, body}, on_error) do
    conn =
      case on_error do
        :undefined ->
          conn
          |> Plug.Conn.merge_resp_headers(headers)
          |> Plug.Conn.send_resp(status, body)

        {m, f} ->
          apply(m, f, [conn, %{reason: reason, status: status, headers: headers, body: body}])
      end

    # What Plug.Conn.halt/1 does.
    %{conn | halted: true}
  end
end
