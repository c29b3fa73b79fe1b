defmodule JwksVerify.Test do
  @moduledoc """
  Test tokens for your application's own tests: a throwaway issuer whose
  JWKS a `JwksVerify.Cache` serves, and tokens it signs.

  `start_issuer!/1` makes a key pair (`RS256` by default; `ES256`, `EdDSA`
  and the other algorithms of the `:alg` option too) and starts, under
  ExUnit's test supervisor, a cache with the name your `JwksVerify.Plug` is
  configured with and the issuer's public JWKS as a static source (no HTTP).
  `sign/3` makes tokens with sensible claims that the Plug then accepts; the
  cache stops with the test. Signing uses OTP's `:public_key` (through the
  Erlang module `:jwks_verify_signer`), never jwks_verify's own code, so a
  test cannot pass because signer and verifier share a bug. Private keys sit
  in plain terms: never issue real tokens with this module. The Erlang face
  is `:jwks_verify_test`, for EUnit.

  ## Examples

  A Phoenix controller test needs three lines for a valid `authorization`
  header:

      setup do
        %{issuer: JwksVerify.Test.start_issuer!(name: MyApp.Jwks)}
      end

      test "GET /api/protected", %{conn: conn, issuer: issuer} do
        token = JwksVerify.Test.sign(issuer, %{"sub" => "user-1"})
        conn = put_req_header(conn, "authorization", "Bearer " <> token)
        assert %{"user" => %{"sub" => "user-1"}} = json_response(get(conn, "/api/protected"), 200)
      end

  The header in one call, and tokens the Plug must refuse:

      {name, value} = JwksVerify.Test.authorization_header(issuer)
      expired = JwksVerify.Test.sign(issuer, %{"exp" => System.system_time(:second) - 60})
      other_api = JwksVerify.Test.sign(issuer, %{"aud" => "other-api"})
      no_exp = JwksVerify.Test.sign(issuer, %{"exp" => nil})
      unknown_key = JwksVerify.Test.sign(JwksVerify.Test.new_issuer())

  Without Phoenix, the same check the Plug makes:

      iex> issuer = JwksVerify.Test.start_issuer!()
      iex> token = JwksVerify.Test.sign(issuer, %{"sub" => "alice", "scope" => "read"})
      iex> {:ok, claims} = JwksVerify.verify(token, issuer.name, iss: issuer.iss, aud: issuer.aud)
      iex> claims["sub"]
      "alice"
      iex> JwksVerify.verify(JwksVerify.Test.sign(issuer, %{"exp" => 0}), issuer.name, aud: issuer.aud)
      {:error, :expired}

  ## Defaults

  A token carries `iss` `"https://issuer.test/"` (`iss/0`), `aud`
  `"api.test"` (`aud/0`), `sub` `"user-1"` (`sub/0`), `iat` now and `exp`
  an hour from now, under the header `{"alg": alg, "kid": kid, "typ": "JWT"}`.
  The Plug must accept them: configure it in the test environment with
  `iss: "https://issuer.test/", aud: "api.test"` (a token carrying `aud` is
  refused by a Plug without `:aud`) and `algs:` naming the issuer's
  algorithm unless it is `RS256`; or give the issuer your application's
  values with `:iss` and `:aud`, and leave the Plug as it is. `plug_opts/1`
  gives the Plug options that fit an issuer.

  ## Options

  `new_issuer/1`, `start_issuer/1` and `start_issuer!/1` take:

    * `:name` - the cache's registered name, the `:cache` of your Plug;
      a fresh `:jwks_verify_test_N` atom by default. A name is global: test
      modules that start issuers under the same name must not be
      `async: true`, and your application must not start its own cache
      under that name in the test environment.
    * `:alg` - `"RS256"` by default; `"RS384"`, `"RS512"`, `"PS256"`,
      `"PS384"`, `"PS512"`, `"ES256"`, `"ES384"`, `"ES512"` or `"EdDSA"`.
    * `:kid` - the key's `kid` (`nil` for none), its RFC 7638 thumbprint by
      default.
    * `:key` - a PEM private key (RSA, EC or Ed25519) or a
      `:jwks_verify_signer` key to use instead of a fresh one; `:alg`
      defaults to the key's.
    * `:iss`, `:aud`, `:sub` - the claims' defaults, as above; `:aud` may
      be a list.

  `sign/3`, `claims/3` and `authorization_header/3` take:

    * `:kid` - the header's `kid` instead of the issuer's (`nil` leaves it
      out): a kid the cache does not know.
    * `:header` - members merged over the header, such as
      `%{"typ" => "at+jwt"}`; a `nil` value removes one.
    * `:now` - the time `iat` and `exp` count from, in seconds since the
      epoch.

  Claims are merged over the defaults, with string or atom keys; a `nil`
  value leaves that claim out (a `nil` nested deeper is JSON `null`).

  ## Errors

  A bad option or argument raises `ArgumentError`.
  """

  @typedoc """
  An issuer: `:name`, `:iss`, `:aud`, `:sub`, `:alg` and `:kid` are there to
  read; `:key` is the private key, for `:jwks_verify_signer` when a test
  needs a token this module does not make.
  """
  @type issuer :: %{
          name: atom(),
          alg: String.t(),
          kid: String.t() | :undefined,
          iss: String.t(),
          aud: String.t() | [String.t()],
          sub: String.t(),
          key: :jwks_verify_signer.key()
        }

  @typedoc "Issuer options, see the moduledoc."
  @type issuer_option ::
          {:name, atom()}
          | {:alg, String.t()}
          | {:kid, String.t() | nil}
          | {:key, String.t() | :jwks_verify_signer.key()}
          | {:iss, String.t()}
          | {:aud, String.t() | [String.t()]}
          | {:sub, String.t()}

  @typedoc "Signing options, see the moduledoc."
  @type sign_option ::
          {:kid, String.t() | nil} | {:header, map()} | {:now, integer()}

  @typedoc "Claims to merge over the defaults; a `nil` value leaves a claim out."
  @type claims :: %{optional(String.t() | atom()) => term()}

  # ExUnit is loaded in a test run only; start_issuer!/1 calls it at runtime.
  @compile {:no_warn_undefined, ExUnit.Callbacks}

  ## Defaults

  @doc ~S'The default `iss` of tokens: `"https://issuer.test/"`.'
  @spec iss() :: String.t()
  defdelegate iss(), to: :jwks_verify_test

  @doc ~S'The default `aud` of tokens: `"api.test"`.'
  @spec aud() :: String.t()
  defdelegate aud(), to: :jwks_verify_test

  @doc ~S'The default `sub` of tokens: `"user-1"`.'
  @spec sub() :: String.t()
  defdelegate sub(), to: :jwks_verify_test

  ## Issuers

  @doc """
  Makes an issuer and starts its cache under ExUnit's test supervisor
  (`ExUnit.Callbacks.start_supervised!/1`): call it in a test, `setup` or
  `setup_all`; the cache stops when they end. Raises when the name is taken.
  See the moduledoc for `opts`.
  """
  @spec start_issuer!([issuer_option()]) :: issuer()
  def start_issuer!(opts \\ []) do
    issuer = new_issuer(opts)

    case Process.whereis(issuer.name) do
      nil ->
        ExUnit.Callbacks.start_supervised!(child_spec(issuer))
        issuer

      pid ->
        raise ArgumentError,
              "#{inspect(issuer.name)} is already registered (#{inspect(pid)}): " <>
                "an issuer of that name runs in another test at the same time (make " <>
                "the tests async: false), or the application starts its own cache under " <>
                "that name (don't, in the test environment)"
    end
  end

  @doc """
  Makes an issuer and starts its cache linked to the caller, outside ExUnit's
  supervision (for `test_helper.exs`, say); `stop_issuer/1` stops it.
  """
  @spec start_issuer([issuer_option()]) :: {:ok, issuer()} | {:error, term()}
  def start_issuer(opts \\ []), do: call(fn -> :jwks_verify_test.start_issuer(erl_opts(opts)) end)

  @doc """
  An issuer with no cache: a key, a name and the claims' defaults. For
  `child_spec/1`, or for tokens signed by a key the application does not
  know.
  """
  @spec new_issuer([issuer_option()]) :: issuer()
  def new_issuer(opts \\ []), do: call(fn -> :jwks_verify_test.new_issuer(erl_opts(opts)) end)

  @doc """
  A child specification starting the issuer's cache, so
  `start_supervised!({JwksVerify.Test, issuer})` works; `restart: :temporary`,
  so a cache the test stops stays stopped.
  """
  @spec child_spec(issuer()) :: Supervisor.child_spec()
  def child_spec(issuer), do: call(fn -> :jwks_verify_test.child_spec(issuer) end)

  @doc """
  Stops the issuer's cache: the Plug answers `503` from then on (the key set
  can't be had).
  """
  @spec stop_issuer(issuer()) :: :ok
  def stop_issuer(issuer), do: call(fn -> :jwks_verify_test.stop_issuer(issuer) end)

  ## Tokens

  @doc """
  A compact JWT signed by the issuer's key, carrying `claims` merged over
  the defaults. See the moduledoc for `opts`.
  """
  @spec sign(issuer(), claims(), [sign_option()]) :: String.t()
  def sign(issuer, claims \\ %{}, opts \\ []),
    do: call(fn -> :jwks_verify_test.sign(issuer, erl_claims(claims), erl_opts(opts)) end)

  @doc """
  The request header `{"authorization", "Bearer " <> token}` for
  `sign(issuer, claims, opts)`, as Plug keeps `req_headers`.
  """
  @spec authorization_header(issuer(), claims(), [sign_option()]) :: {String.t(), String.t()}
  def authorization_header(issuer, claims \\ %{}, opts \\ []),
    do:
      call(fn -> :jwks_verify_test.authorization(issuer, erl_claims(claims), erl_opts(opts)) end)

  @doc """
  The claims `sign/3` would sign: the defaults with `claims` merged over
  them, keys as strings. Of `opts`, only `:now` counts.
  """
  @spec claims(issuer(), claims(), [sign_option()]) :: %{String.t() => term()}
  def claims(issuer, claims \\ %{}, opts \\ []),
    do: call(fn -> :jwks_verify_test.claims(issuer, erl_claims(claims), erl_opts(opts)) end)

  ## What the application under test is given

  @doc "The issuer's public JWKS as JSON, for `JwksVerify.key_set/1` or a `:jwks` cache option."
  @spec jwks(issuer()) :: String.t()
  def jwks(issuer), do: call(fn -> :jwks_verify_test.jwks(issuer) end)

  @doc """
  `JwksVerify.Plug` options that accept the issuer's tokens: `:cache`,
  `:iss`, `:aud` and `:algs`. Add your own after them:
  `JwksVerify.Plug.init(JwksVerify.Test.plug_opts(issuer) ++ [assign: :claims])`.
  """
  @spec plug_opts(issuer()) :: keyword()
  def plug_opts(issuer), do: call(fn -> :jwks_verify_test.guard_opts(issuer) end)

  ## Elixir terms to the Erlang module's

  defp erl_opts(opts) when is_list(opts) do
    Enum.map(opts, fn
      {:kid, nil} -> {:kid, :undefined}
      {:header, header} when is_map(header) -> {:header, Map.new(header, &top_level/1)}
      other -> other
    end)
  end

  defp erl_opts(other), do: other

  defp erl_claims(claims) when is_map(claims), do: Map.new(claims, &top_level/1)
  defp erl_claims(other), do: other

  # nil at the top removes a member; deeper, it is JSON null.
  defp top_level({key, nil}), do: {key, :undefined}
  defp top_level({key, value}), do: {key, json_value(value)}

  defp json_value(nil), do: :null

  defp json_value(%{} = map) when not is_struct(map),
    do: Map.new(map, fn {k, v} -> {k, json_value(v)} end)

  defp json_value(list) when is_list(list), do: Enum.map(list, &json_value/1)
  defp json_value(other), do: other

  defp call(fun), do: JwksVerify.call(fun)
end
