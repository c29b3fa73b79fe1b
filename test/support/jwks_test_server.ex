defmodule JwksVerify.TestServer do
  @moduledoc """
  A JWKS issuer for the cache tests: a real HTTP/1.1 (or HTTPS) server on
  127.0.0.1 over `:gen_tcp`/`:ssl`, one request per connection
  (`Connection: close`), that counts and records every request it reads.

  What it answers is set with `set/2`:

    * `:jwks` - the body served (a binary);
    * `:etag` - sent with 200s; a request whose `If-None-Match` matches gets a 304;
    * `:cache_control`, `:expires`, `:headers` - extra response headers;
    * `:delay` - milliseconds to wait before answering;
    * `:mode` - `:ok`, `{:status, code}`, `:hang` (never answer), `:malformed`
      (a truncated JSON body), `:empty` (`{"keys": []}`), `{:huge, bytes}`
      (a 200 of that size with Content-Length), `{:huge_chunked, bytes}` (the
      same, chunked), `{:huge, bytes, opts}` (`status: code`, `chunked: true`,
      `location: url` for a redirect), `:redirect_loop` (302 to itself),
      `{:redirect, url}`, `:drop` (close the connection without answering);
    * `:routes` - `%{path => keyword}`: for a request to `path`, these values
      of the keys above replace the others (`:jwks` is then that path's body),
      so one server can be an issuer with several documents.

  Huge bodies are written from one 64 KiB binary, reused: the server holds
  no more than that whatever their size.
  """

  use GenServer

  defstruct [:pid, :port, :scheme]

  @type t :: %__MODULE__{pid: pid(), port: :inet.port_number(), scheme: :http | :https}

  @doc "Starts a server; `tls: [certfile: ..., keyfile: ...]` makes it HTTPS; `port: n` picks the port."
  @spec start(keyword()) :: t()
  def start(opts \\ []) do
    {:ok, pid} = GenServer.start(__MODULE__, opts)
    {port, scheme} = GenServer.call(pid, :address)
    %__MODULE__{pid: pid, port: port, scheme: scheme}
  end

  @spec stop(t()) :: :ok
  def stop(%__MODULE__{pid: pid}) do
    if Process.alive?(pid), do: GenServer.stop(pid, :normal, 5_000)
    :ok
  rescue
    _ -> :ok
  catch
    :exit, _ -> :ok
  end

  @doc "The JWKS URL: `https://localhost:port/...` (the test cert names localhost) or `http://127.0.0.1:port/...`."
  @spec url(t(), String.t()) :: String.t()
  def url(server, path \\ "/jwks.json")
  def url(%__MODULE__{scheme: :https, port: port}, path), do: "https://localhost:#{port}#{path}"
  def url(%__MODULE__{scheme: :http, port: port}, path), do: "http://127.0.0.1:#{port}#{path}"

  @spec set(t(), keyword()) :: :ok
  def set(%__MODULE__{pid: pid}, kw), do: GenServer.call(pid, {:set, kw})

  @doc "How many requests the server has read so far."
  @spec count(t()) :: non_neg_integer()
  def count(%__MODULE__{pid: pid}), do: GenServer.call(pid, :count)

  @doc "The requests read so far, oldest first: `%{path: p, headers: %{name => value}, at: monotonic_ms}`."
  @spec requests(t()) :: [map()]
  def requests(%__MODULE__{pid: pid}), do: GenServer.call(pid, :requests)

  ## Server

  @impl true
  def init(opts) do
    Process.flag(:trap_exit, true)
    port = Keyword.get(opts, :port, 0)
    tls = Keyword.get(opts, :tls)

    base = [:binary, packet: :http_bin, active: false, reuseaddr: true, ip: {127, 0, 0, 1}]

    {:ok, listen} =
      if tls,
        do: :ssl.listen(port, base ++ tls),
        else: :gen_tcp.listen(port, base)

    {:ok, {_, actual}} = if tls, do: :ssl.sockname(listen), else: :inet.sockname(listen)
    transport = if tls, do: :ssl, else: :gen_tcp
    me = self()
    acceptor = spawn_link(fn -> accept_loop(transport, listen, me) end)

    {:ok,
     %{
       listen: listen,
       transport: transport,
       port: actual,
       acceptor: acceptor,
       conf: %{
         jwks: ~s({"keys": []}),
         etag: nil,
         cache_control: nil,
         expires: nil,
         headers: [],
         delay: 0,
         mode: :ok,
         routes: %{}
       },
       requests: []
     }}
  end

  @impl true
  def handle_call(:address, _from, s),
    do: {:reply, {s.port, if(s.transport == :ssl, do: :https, else: :http)}, s}

  def handle_call({:set, kw}, _from, s),
    do: {:reply, :ok, %{s | conf: Map.merge(s.conf, Map.new(kw))}}

  def handle_call(:count, _from, s), do: {:reply, length(s.requests), s}
  def handle_call(:requests, _from, s), do: {:reply, Enum.reverse(s.requests), s}

  def handle_call({:request, req}, _from, s),
    do: {:reply, s.conf, %{s | requests: [req | s.requests]}}

  @impl true
  def handle_info({:EXIT, _pid, _reason}, s), do: {:noreply, s}

  @impl true
  def terminate(_reason, s) do
    # Handlers are linked to the acceptor: this ends them too (hanging ones included).
    Process.exit(s.acceptor, :kill)
    s.transport.close(s.listen)
    :ok
  end

  defp accept_loop(transport, listen, server) do
    case accept(transport, listen) do
      {:ok, sock} ->
        pid = spawn_link(fn -> serve(transport, sock, server) end)

        if transport == :ssl,
          do: :ssl.controlling_process(sock, pid),
          else: :gen_tcp.controlling_process(sock, pid)

        send(pid, :go)
        accept_loop(transport, listen, server)

      {:error, :closed} ->
        :ok

      {:error, _} ->
        accept_loop(transport, listen, server)
    end
  end

  defp accept(:gen_tcp, listen), do: :gen_tcp.accept(listen)
  defp accept(:ssl, listen), do: :ssl.transport_accept(listen)

  defp serve(transport, sock, server) do
    receive do
      :go -> :ok
    end

    with {:ok, sock} <- handshake(transport, sock),
         {:ok, path, headers} <- read_request(transport, sock, nil, %{}) do
      at = System.monotonic_time(:millisecond)
      conf = GenServer.call(server, {:request, %{path: path, headers: headers, at: at}})
      conf = Map.merge(conf, Map.new(Map.get(conf.routes, path, [])))
      if conf.delay > 0, do: Process.sleep(conf.delay)
      respond(transport, sock, conf, path, headers)
    end

    transport.close(sock)
  end

  defp handshake(:ssl, sock), do: :ssl.handshake(sock, 5_000)
  defp handshake(:gen_tcp, sock), do: {:ok, sock}

  defp read_request(transport, sock, path, headers) do
    case transport.recv(sock, 0, 5_000) do
      {:ok, {:http_request, _method, {:abs_path, p}, _vsn}} ->
        read_request(transport, sock, p, headers)

      {:ok, {:http_header, _, name, _, value}} ->
        read_request(transport, sock, path, Map.put(headers, header_name(name), value))

      {:ok, :http_eoh} ->
        {:ok, path, headers}

      other ->
        {:error, other}
    end
  end

  defp header_name(name) when is_atom(name), do: name |> Atom.to_string() |> String.downcase()
  defp header_name(name), do: String.downcase(name)

  defp respond(transport, sock, %{mode: :ok} = conf, _path, headers) do
    if conf.etag && headers["if-none-match"] == conf.etag do
      send_response(transport, sock, 304, cache_headers(conf) ++ [{"etag", conf.etag}], "")
    else
      etag = if conf.etag, do: [{"etag", conf.etag}], else: []
      json_headers = [{"content-type", "application/json"}] ++ etag ++ cache_headers(conf)
      send_response(transport, sock, 200, json_headers, conf.jwks)
    end
  end

  defp respond(transport, sock, %{mode: {:status, code}}, _path, _headers),
    do: send_response(transport, sock, code, [{"content-type", "text/plain"}], "error\n")

  defp respond(transport, sock, %{mode: :hang}, _path, _headers) do
    # Hold the connection open without answering until the client gives up.
    if transport == :ssl,
      do: :ssl.setopts(sock, packet: :raw),
      else: :inet.setopts(sock, packet: :raw)

    transport.recv(sock, 0, :infinity)
  end

  defp respond(transport, sock, %{mode: :malformed}, _path, _headers),
    do:
      send_response(
        transport,
        sock,
        200,
        [{"content-type", "application/json"}],
        ~s({"keys": [{"kty": "RSA", )
      )

  defp respond(transport, sock, %{mode: :empty}, _path, _headers),
    do:
      send_response(
        transport,
        sock,
        200,
        [{"content-type", "application/json"}],
        ~s({"keys": []})
      )

  defp respond(transport, sock, %{mode: {:huge, bytes}} = conf, path, headers),
    do: respond(transport, sock, %{conf | mode: {:huge, bytes, []}}, path, headers)

  defp respond(transport, sock, %{mode: {:huge_chunked, bytes}} = conf, path, headers),
    do: respond(transport, sock, %{conf | mode: {:huge, bytes, chunked: true}}, path, headers)

  defp respond(transport, sock, %{mode: {:huge, bytes, opts}}, _path, _headers) do
    code = Keyword.get(opts, :status, 200)
    location = for url <- List.wrap(opts[:location]), do: {"location", url}

    if opts[:chunked] do
      head = status_line(code, [{"transfer-encoding", "chunked"} | location])
      transport.send(sock, head)
      frame = &[Integer.to_string(byte_size(&1), 16), "\r\n", &1, "\r\n"]

      with :ok <- send_filler(transport, sock, bytes, frame) do
        transport.send(sock, "0\r\n\r\n")
      end
    else
      head = status_line(code, [{"content-length", "#{bytes}"} | location])
      transport.send(sock, head)
      send_filler(transport, sock, bytes, fn chunk -> chunk end)
    end
  end

  defp respond(transport, sock, %{mode: :redirect_loop}, path, _headers),
    do: send_response(transport, sock, 302, [{"location", path}], "")

  defp respond(transport, sock, %{mode: {:redirect, url}}, _path, _headers),
    do: send_response(transport, sock, 302, [{"location", url}], "")

  defp respond(_transport, _sock, %{mode: :drop}, _path, _headers), do: :ok

  @chunk 65_536
  defp send_filler(_transport, _sock, 0, _frame), do: :ok

  defp send_filler(transport, sock, left, frame) do
    n = min(left, @chunk)
    filler = filler()
    chunk = if n == @chunk, do: filler, else: binary_part(filler, 0, n)

    case transport.send(sock, frame.(chunk)) do
      :ok -> send_filler(transport, sock, left - n, frame)
      error -> error
    end
  end

  # One 64 KiB binary per process, made once and sent again and again.
  defp filler do
    case Process.get(:filler) do
      nil ->
        bin = :binary.copy(" ", @chunk)
        Process.put(:filler, bin)
        bin

      bin ->
        bin
    end
  end

  defp cache_headers(conf) do
    for(
      {name, value} <- [{"cache-control", conf.cache_control}, {"expires", conf.expires}],
      value != nil,
      do: {name, value}
    ) ++ conf.headers
  end

  defp send_response(transport, sock, code, headers, body) do
    headers = headers ++ [{"content-length", Integer.to_string(byte_size(body))}]
    transport.send(sock, [status_line(code, headers), body])
  end

  defp status_line(code, headers) do
    [
      "HTTP/1.1 #{code} #{reason(code)}\r\n",
      Enum.map(headers, fn {k, v} -> [k, ": ", v, "\r\n"] end),
      "connection: close\r\n\r\n"
    ]
  end

  defp reason(200), do: "OK"
  defp reason(302), do: "Found"
  defp reason(304), do: "Not Modified"
  defp reason(500), do: "Internal Server Error"
  defp reason(_), do: "Status"
end
