defmodule JwksVerify.CacheTestHelpers do
  @moduledoc """
  Keys, JWKS documents, tokens and TLS certificates for the cache tests.

  Keys and tokens come from `:jwks_verify_signer` (OTP's `:public_key`), never
  from jwks_verify itself; certificates come from the `openssl` CLI at test time.
  """

  alias :jwks_verify_signer, as: Signer

  @doc "A fresh RSA-2048 (`:rs256`) or P-256 (`:es256`) key with the given kid."
  @spec key(String.t(), :rs256 | :es256) :: :jwks_verify_signer.key()
  def key(kid, type \\ :rs256)
  def key(kid, :rs256), do: Signer.generate_key("RS256", %{kid: kid})
  def key(kid, :es256), do: Signer.generate_key("ES256", %{kid: kid})

  @doc "A JWKS JSON document holding the keys' public halves."
  @spec jwks([:jwks_verify_signer.key()]) :: binary()
  def jwks(keys), do: Signer.jwks(keys)

  @doc "Claims valid for an hour from `now`, merged with `extra`."
  @spec claims(map()) :: map()
  def claims(extra \\ %{}) do
    now = System.system_time(:second)
    # iat a little in the past: Erlang's system time and the OS clock the
    # NIF reads can sit either side of a second boundary.
    Map.merge(%{"sub" => "user-1", "iat" => now - 5, "exp" => now + 3600}, extra)
  end

  @doc "A compact JWS of `claims` signed with `key`; `header` entries override the defaults."
  @spec token(:jwks_verify_signer.key(), map(), map()) :: binary()
  def token(key, claims \\ claims(), header \\ %{}),
    do: Signer.sign(claims, key, %{header: header})

  @doc """
  A test CA and two server certificates it signed, made with the openssl CLI in
  `dir`: one for `localhost`, one for `wrong.example`. Returns their paths and
  the CA certificate as DER.
  """
  @spec make_certs(Path.t()) :: map()
  def make_certs(dir) do
    File.mkdir_p!(dir)
    p = &Path.join(dir, &1)

    openssl!(~w(req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=jwks_verify-test-CA
                -keyout #{p.("ca.key")} -out #{p.("ca.pem")}
                -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign))

    for host <- ["localhost", "wrong.example"] do
      openssl!(~w(req -newkey rsa:2048 -nodes -subj /CN=#{host}
                  -keyout #{p.(host <> ".key")} -out #{p.(host <> ".csr")}))

      File.write!(p.(host <> ".ext"), "subjectAltName=DNS:#{host}\nextendedKeyUsage=serverAuth\n")

      openssl!(
        ~w(x509 -req -in #{p.(host <> ".csr")} -CA #{p.("ca.pem")} -CAkey #{p.("ca.key")}
                  -CAcreateserial -days 2 -out #{p.(host <> ".pem")} -extfile #{p.(host <> ".ext")})
      )
    end

    [{:Certificate, ca_der, _}] = :public_key.pem_decode(File.read!(p.("ca.pem")))

    %{
      ca_der: ca_der,
      localhost: [certfile: p.("localhost.pem"), keyfile: p.("localhost.key")],
      wrong_host: [certfile: p.("wrong.example.pem"), keyfile: p.("wrong.example.key")]
    }
  end

  defp openssl!(args) do
    case System.cmd("openssl", args, stderr_to_stdout: true) do
      {_, 0} -> :ok
      {out, status} -> raise "openssl #{Enum.join(args, " ")} exited #{status}: #{out}"
    end
  end

  @doc "A TCP port nothing listens on (bound, then released)."
  @spec free_port() :: :inet.port_number()
  def free_port do
    {:ok, s} = :gen_tcp.listen(0, ip: {127, 0, 0, 1}, reuseaddr: true)
    {:ok, port} = :inet.port(s)
    :gen_tcp.close(s)
    port
  end

  @doc "Starts a cache under the test's supervisor (a generated name unless `:name` is given); its name."
  def cache(opts) do
    opts = Keyword.put_new(opts, :name, :"jwks_cache_#{System.unique_integer([:positive])}")
    ExUnit.Callbacks.start_supervised!({JwksVerify.Cache, opts})
    opts[:name]
  end

  @doc "A cache fetching from a loopback `JwksVerify.TestServer`, its first key set awaited."
  def http_cache(server, opts \\ []) do
    cache(
      [jwks_uri: JwksVerify.TestServer.url(server), allow_http: true, await_first_fetch: 5_000] ++
        opts
    )
  end

  @doc "Polls `fun` until it returns a truthy value or `ms` pass; returns the last value."
  @spec eventually((() -> term()), non_neg_integer()) :: term()
  def eventually(fun, ms \\ 5_000) do
    deadline = System.monotonic_time(:millisecond) + ms
    poll(fun, deadline)
  end

  defp poll_again(fun, deadline) do
    Process.sleep(10)
    poll(fun, deadline)
  end

  defp poll(fun, deadline) do
    value = fun.()

    cond do
      value -> value
      System.monotonic_time(:millisecond) > deadline -> value
      true -> poll_again(fun, deadline)
    end
  end
end
