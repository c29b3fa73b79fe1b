# Guards :jwks_verify_httpd, the guard for OTP's httpd, end to end: real HTTP
# on 127.0.0.1 with :httpc (and raw sockets for what :httpc won't send), an
# issuer serving its JWKS over HTTP to a JwksVerify.Cache, and the same
# 200/400/401/503 answers as the Plug, since both call :jwks_verify_guard.
defmodule JwksVerify.HttpdTest do
  use ExUnit.Case, async: false

  import JwksVerify.TokenHelpers
  import JwksVerify.PlugTestHelpers

  @moduletag :capture_log
  @cache JwksVerify.HttpdTest.Jwks

  setup_all do
    key = rsa_key()
    issuer = start_issuer(jwks_for([{key, "k1"}]))
    on_exit(fn -> stop_issuer(issuer) end)
    %{key: key, issuer: issuer}
  end

  defp decode_json(body), do: :jiffy.decode(body, [:return_maps])

  # The cache as an Erlang user starts it (JwksVerify.Cache runs the same).
  defp cache_spec(name, url, extra \\ []) do
    :jwks_verify_cache.child_spec(Map.new([name: name, jwks_uri: url, allow_http: true] ++ extra))
  end

  describe "with a cache fed over HTTP" do
    setup %{issuer: issuer} do
      start_supervised!(cache_spec(@cache, issuer.url))
      eventually(fn -> :jwks_verify_cache.status(@cache) == :fresh end)

      api = start_api(cache: @cache, iss: iss(), aud: aud(), public_paths: ["/public"])
      on_exit(fn -> stop_httpd(api.server) end)
      %{api: api}
    end

    test "a valid token: 200, and the claims reach the next module", %{api: api, key: key} do
      claims = claims(%{"scope" => "read", "admin" => false})
      token = rs256(key, "k1", claims)
      {status, _headers, body} = get(api.base <> "/api/protected", bearer_headers(token))
      assert status == 200
      assert decode_json(body) == %{"user" => claims}

      {200, _, _} = get(api.base <> "/api/protected?x=1", [{"authorization", "bearer " <> token}])
    end

    test "no token: 401 with a bare Bearer challenge", %{api: api} do
      {status, headers, body} = get(api.base <> "/api/protected")
      assert status == 401
      assert {"www-authenticate", "Bearer"} in headers
      assert {"content-type", "application/json"} in headers

      assert decode_json(body) == %{
               "error" => "Unauthorized",
               "details" => "missing bearer token"
             }
    end

    test "refused tokens: 401 invalid_token with the reason", %{api: api, key: key} do
      valid = rs256(key, "k1", claims())
      {h, _p, s} = segments(valid)
      tampered = h <> "." <> b64(:jiffy.encode(claims(%{"sub" => "admin"}))) <> "." <> s

      for {token, details} <- [
            {rs256(key, "k1", claims(%{"exp" => now() - 10})), "token expired"},
            {rs256(key, "k1", claims(%{"iss" => "https://evil.test/"})), "invalid issuer"},
            {tampered, "invalid signature"}
          ] do
        {status, headers, body} = get(api.base <> "/api/protected", bearer_headers(token))
        assert status == 401

        assert {"www-authenticate",
                ~s(Bearer error="invalid_token", error_description="#{details}")} in headers

        assert decode_json(body)["details"] == details
      end
    end

    test "two authorization headers: 400 invalid_request", %{api: api, key: key} do
      token = rs256(key, "k1", claims())
      port = elem(api.server, 1)

      request =
        "GET /api/protected HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" <>
          "Authorization: Bearer #{token}\r\nAuthorization: Bearer #{token}\r\n\r\n"

      {status, response} = raw_request(port, request)
      assert status == 400
      assert response =~ ~s(error="invalid_request")
      assert response =~ ~s({"error":"Bad Request","details":"multiple authorization headers"})
    end

    test "a public path needs no token; other paths are guarded", %{api: api} do
      assert {200, _, ~s({"message":"public"})} = get(api.base <> "/public")
      assert {200, _, _} = get(api.base <> "/public?q=1")
      assert {401, _, _} = get(api.base <> "/public/../api/protected")
      assert {401, _, _} = get(api.base <> "/anything")
    end
  end

  describe "when the key set can't be had" do
    test "503 without a challenge, and 200 once the issuer is back", %{key: key} do
      down = start_issuer(jwks_for([{key, "k1"}]))
      set_status(down, 500)
      on_exit(fn -> stop_issuer(down) end)

      name = JwksVerify.HttpdTest.DownJwks
      start_supervised!(cache_spec(name, down.url, backoff_initial: 100, backoff_max: 200))
      api = start_api(cache: name, iss: iss(), aud: aud())
      on_exit(fn -> stop_httpd(api.server) end)

      token = rs256(key, "k1", claims())
      {status, headers, body} = get(api.base <> "/api/protected", bearer_headers(token))
      assert status == 503
      refute List.keymember?(headers, "www-authenticate", 0)

      assert decode_json(body) == %{
               "error" => "Service Unavailable",
               "details" => "jwks unavailable"
             }

      set_status(down, 200)

      eventually(
        fn -> match?({200, _, _}, get(api.base <> "/api/protected", bearer_headers(token))) end,
        15_000
      )
    end
  end

  # Issue 15 item 2: staff and customer identity providers behind one server.
  describe "several issuers" do
    test "each issuer's tokens pass; a kid shared by both picks the token's issuer's key" do
      staff_key = rsa_key()
      customer_key = rsa_key()
      staff = start_issuer(jwks_for([{staff_key, "k1"}]))
      customers = start_issuer(jwks_for([{customer_key, "k1"}]))

      on_exit(fn ->
        stop_issuer(staff)
        stop_issuer(customers)
      end)

      for {name, issuer, server} <- [
            {JwksVerify.HttpdTest.Staff, "https://staff.test/", staff},
            {JwksVerify.HttpdTest.Customers, "https://customers.test/", customers}
          ] do
        start_supervised!(cache_spec(name, server.url, issuer: issuer), id: name)
        eventually(fn -> :jwks_verify_cache.status(name) == :fresh end)
      end

      api =
        start_api(cache: [JwksVerify.HttpdTest.Staff, JwksVerify.HttpdTest.Customers], aud: aud())

      on_exit(fn -> stop_httpd(api.server) end)
      url = api.base <> "/api/protected"
      token = fn key, iss -> rs256(key, "k1", claims(%{"iss" => iss})) end

      assert {200, _, body} = get(url, bearer_headers(token.(staff_key, "https://staff.test/")))
      assert decode_json(body)["user"]["iss"] == "https://staff.test/"

      assert {200, _, body} =
               get(url, bearer_headers(token.(customer_key, "https://customers.test/")))

      assert decode_json(body)["user"]["iss"] == "https://customers.test/"

      for {key, iss, details} <- [
            {customer_key, "https://staff.test/", "invalid signature"},
            {staff_key, "https://customers.test/", "invalid signature"},
            {staff_key, "https://other.test/", "invalid issuer"}
          ] do
        assert {401, headers, _} = get(url, bearer_headers(token.(key, iss)))

        assert {"www-authenticate",
                ~s(Bearer error="invalid_token", error_description="#{details}")} in headers
      end
    end
  end

  describe "configuration" do
    test "a static key set instead of a cache", %{key: key} do
      {:ok, ks} = JwksVerify.key_set(jwks_for([{key, "k1"}]))
      api = start_api(key_set: ks, aud: aud())
      on_exit(fn -> stop_httpd(api.server) end)

      assert {200, _, _} =
               get(api.base <> "/api/protected", bearer_headers(rs256(key, "k1", claims())))

      assert {401, _, _} = get(api.base <> "/api/protected")
    end

    test "a bad option fails the start of httpd, with the guard's description" do
      for {opts, message} <- [
            {[cache: :x, bogus: 1], ~r/^unknown option bogus; known options: cache/},
            {[cache: :x, leeway: -1], ~r/option leeway: expected a non-negative integer/},
            {[iss: "https://i/"], ~r/option cache .* is required/},
            {%{cache: :x, public_paths: ["x"]},
             ~r/public_paths: expected paths that start with \//},
            {[cache: :x, unavailable_status: 200], ~r/unavailable_status: expected a 5xx/},
            {[cache: :x, scopes: "read"], ~r/option scopes: expected a list of scopes/}
          ] do
        assert {:error, error} =
                 :inets.start(:httpd,
                   port: 0,
                   bind_address: {127, 0, 0, 1},
                   server_name: ~c"bad",
                   server_root: ~c"/tmp",
                   document_root: ~c"/tmp",
                   modules: [:jwks_verify_httpd],
                   jwks_verify: opts
                 )

        assert {:jwks_verify, description} = find_store_error(error), inspect(error)
        assert description =~ message
      end
    end

    test "a guard that fails answers 500 and logs it, without the token", %{key: key} do
      {:ok, ks} = JwksVerify.key_set(jwks_for([{key, "k1"}]))
      api = start_api(key_set: ks, skip: {__MODULE__, :crash})
      on_exit(fn -> stop_httpd(api.server) end)
      token = rs256(key, "k1", claims())

      log =
        ExUnit.CaptureLog.capture_log(fn ->
          assert {500, _, _} = get(api.base <> "/api/protected", bearer_headers(token))
        end)

      assert log =~ "jwks_verify_httpd could not decide a request"
      assert log =~ "skip callback crashed"
      refute log =~ token
    end

    test "the application environment, when httpd has no jwks_verify property", %{key: key} do
      {:ok, ks} = JwksVerify.key_set(jwks_for([{key, "k1"}]))

      Application.put_env(:jwks_verify, :httpd, key_set: ks, aud: aud(), public_paths: ["/public"])

      on_exit(fn -> Application.delete_env(:jwks_verify, :httpd) end)

      server = start_httpd([:jwks_verify_httpd, JwksVerify.PlugTestHelpers.Api])
      on_exit(fn -> stop_httpd(server) end)
      base = "http://127.0.0.1:#{elem(server, 1)}"

      assert {200, _, _} = get(base <> "/public")
      assert {401, _, _} = get(base <> "/api/protected")

      assert {200, _, _} =
               get(base <> "/api/protected", bearer_headers(rs256(key, "k1", claims())))
    end

    test "scopes: 403 insufficient_scope for a valid token without them", %{key: key} do
      {:ok, ks} = JwksVerify.key_set(jwks_for([{key, "k1"}]))
      api = start_api(key_set: ks, aud: aud(), scopes: ["read:orders", "write:orders"])
      on_exit(fn -> stop_httpd(api.server) end)
      url = api.base <> "/api/protected"

      token = rs256(key, "k1", claims(%{"scope" => "read:orders"}))
      {status, headers, body} = get(url, bearer_headers(token))
      assert status == 403

      assert {"www-authenticate",
              ~s(Bearer error="insufficient_scope", scope="read:orders write:orders")} in headers

      assert body == ~s({"error":"Forbidden","details":"insufficient scope"})

      for granted <- [
            %{"scope" => "write:orders read:orders"},
            %{"scp" => ["read:orders", "write:orders"]}
          ] do
        assert {200, _, _} = get(url, bearer_headers(rs256(key, "k1", claims(granted))))
      end

      assert {401, _, _} = get(url)
    end

    test "on_error shapes the answer", %{key: key} do
      {:ok, ks} = JwksVerify.key_set(jwks_for([{key, "k1"}]))
      api = start_api(key_set: ks, on_error: {__MODULE__, :teapot})
      on_exit(fn -> stop_httpd(api.server) end)

      assert {418, _, "token expired"} =
               get(api.base <> "/x", bearer_headers(rs256(key, "k1", claims(%{"exp" => 1}))))
    end
  end

  # {:jwks_verify, description} wherever inets put it in its start error.
  defp find_store_error({:jwks_verify, description} = found) when is_binary(description),
    do: found

  defp find_store_error(term) when is_tuple(term),
    do: term |> Tuple.to_list() |> find_store_error()

  defp find_store_error(list) when is_list(list),
    do: Enum.find_value(list, &find_store_error/1)

  defp find_store_error(_), do: nil

  # A skip callback that crashes.
  def crash(_path), do: raise("skip callback crashed")

  # An on_error callback: answers 418 with the details as plain text.
  def teapot(_mod_data, %{reason: reason}) do
    body = :jwks_verify_guard.details(reason)
    head = [code: 418, content_type: ~c"text/plain", content_length: ~c"#{byte_size(body)}"]
    {:break, [response: {:response, head, [body]}]}
  end
end
