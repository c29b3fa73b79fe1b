# Guards the pure half of the cache's HTTP fetch (src/jwks_verify_cache_http.erl)
# without a server: freshness from Cache-Control / Age / Expires / Date
# (RFC 9111) and its clamping, the conditional request, redirects (relative
# Location, hop limit, downgrade to http), Content-Length, and the TLS
# defaults (verify_peer, SNI only for names, user options winning key by
# key). Headers are given as the client reads them: lower-case charlist names
# and values.
defmodule JwksVerify.CacheHttpTest do
  use ExUnit.Case, async: true

  @http :jwks_verify_cache_http
  # A fixed "now" for Expires without a usable Date: 2024-01-01 00:30:00 UTC.
  @now {{2024, 1, 1}, {0, 30, 0}}

  defp cfg(opts \\ []) do
    :jwks_verify_cache_opts.config(Map.new([jwks_uri: "https://issuer.example/jwks"] ++ opts))
  end

  defp headers(pairs), do: for({k, v} <- pairs, do: {to_charlist(k), to_charlist(v)})

  describe "header_ttl/2" do
    # {headers, expected ms (:undefined when the response says nothing)}
    @cases [
      {[], :undefined},
      {[{"cache-control", "public"}], :undefined},
      {[{"cache-control", "max-age=300"}], 300_000},
      {[{"cache-control", "public, max-age=300, must-revalidate"}], 300_000},
      {[{"cache-control", "Public, Max-Age=60"}], 60_000},
      {[{"cache-control", ~s(max-age="60")}], 60_000},
      {[{"cache-control", "max-age=0"}], 0},
      # Age is subtracted, never below zero; a bad Age counts as none.
      {[{"cache-control", "max-age=300"}, {"age", "100"}], 200_000},
      {[{"cache-control", "max-age=300"}, {"age", "400"}], 0},
      {[{"cache-control", "max-age=300"}, {"age", "soon"}], 300_000},
      {[{"cache-control", "max-age=300"}, {"age", "-5"}], 300_000},
      # A malformed max-age means "as short as allowed".
      {[{"cache-control", "max-age=abc"}], 0},
      {[{"cache-control", "max-age=-5"}], 0},
      {[{"cache-control", "max-age=10s"}], 0},
      # no-cache and no-store win over max-age.
      {[{"cache-control", "no-cache, max-age=300"}], 0},
      {[{"cache-control", "max-age=300, no-store"}], 0},
      # Expires counts from Date when there is one...
      {[{"expires", "Mon, 01 Jan 2024 01:00:00 GMT"}, {"date", "Mon, 01 Jan 2024 00:00:00 GMT"}],
       3_600_000},
      # ... else from now, and a bad Date is no Date.
      {[{"expires", "Mon, 01 Jan 2024 01:00:00 GMT"}], 1_800_000},
      {[{"expires", "Mon, 01 Jan 2024 01:00:00 GMT"}, {"date", "yesterday"}], 1_800_000},
      # An Expires in the past or unreadable means stale at once.
      {[{"expires", "Mon, 01 Jan 2024 00:00:00 GMT"}], 0},
      {[{"expires", "0"}], 0},
      {[{"expires", "-1"}], 0},
      {[{"expires", ""}], 0},
      {[{"expires", "Wed, 32 Jan 2024 01:00:00 GMT"}], 0},
      {[{"expires", "Mon, 01 Jan 2024 01:00:00 GMT"}, {"date", "0"}], 1_800_000},
      # max-age (less Age) wins over Expires.
      {[{"cache-control", "max-age=60"}, {"expires", "Mon, 01 Jan 2024 01:00:00 GMT"}], 60_000}
    ]

    for {{hs, expected}, i} <- Enum.with_index(@cases) do
      test "case #{i}: #{inspect(hs)}" do
        assert :jwks_verify_cache_http.header_ttl(headers(unquote(Macro.escape(hs))), @now) ==
                 unquote(expected)
      end
    end
  end

  describe "ttl/3" do
    test "clamps the response's lifetime to [min_ttl, max_ttl]" do
      c = cfg(min_ttl: 60_000, max_ttl: 3_600_000)
      assert @http.ttl(headers([{"cache-control", "max-age=5"}]), c, @now) == 60_000
      assert @http.ttl(headers([{"cache-control", "max-age=600"}]), c, @now) == 600_000
      assert @http.ttl(headers([{"cache-control", "max-age=86400"}]), c, @now) == 3_600_000
      assert @http.ttl(headers([{"cache-control", "no-store"}]), c, @now) == 60_000
    end

    test "says nothing when the response says nothing (the ttl option applies)" do
      assert @http.ttl([], cfg(ttl: 1_000), @now) == :undefined
    end

    test "min_ttl 0 lets no-cache mean refetch at once" do
      assert @http.ttl(headers([{"cache-control", "no-cache"}]), cfg(min_ttl: 0), @now) == 0
    end
  end

  describe "etag/1 and request_headers/1" do
    test "the ETag comes back as If-None-Match, and only then" do
      etag = @http.etag(headers([{"etag", ~s("v1")}, {"content-type", "application/json"}]))
      assert etag == ~c("v1")
      assert {~c"if-none-match", ~c("v1")} in @http.request_headers(etag)

      plain = @http.request_headers(@http.etag([]))
      refute List.keymember?(plain, ~c"if-none-match", 0)
      assert {~c"accept", ~c"application/jwk-set+json, application/json"} in plain
      assert {~c"user-agent", ~c"jwks_verify"} in plain
    end
  end

  describe "redirect/4" do
    @from ~c"https://issuer.example/.well-known/jwks.json"

    test "follows Location, resolved against the request's URL" do
      for status <- [301, 302, 303, 307, 308] do
        assert @http.redirect(status, headers([{"location", "/keys"}]), @from, 1) ==
                 {:follow, ~c"https://issuer.example/keys"}
      end

      assert @http.redirect(302, headers([{"location", "keys.json"}]), @from, 3) ==
               {:follow, ~c"https://issuer.example/.well-known/keys.json"}

      assert @http.redirect(302, headers([{"location", "http://other.example/k"}]), @from, 3) ==
               {:follow, ~c"http://other.example/k"}
    end

    test "stops at the hop limit, and without a Location" do
      assert @http.redirect(302, headers([{"location", "/keys"}]), @from, 0) ==
               {:error, :too_many_redirects}

      assert @http.redirect(307, [], @from, 3) == {:error, {:http_status, 307}}
    end

    test "any other status is an error naming it" do
      for status <- [204, 304, 400, 404, 500, 503] do
        assert @http.redirect(status, headers([{"location", "/keys"}]), @from, 3) ==
                 {:error, {:http_status, status}}
      end
    end
  end

  describe "allowed_uri/2" do
    test "https always, http only when allowed, nothing else" do
      assert @http.allowed_uri(~c"https://issuer.example/jwks", false) == :ok
      assert @http.allowed_uri(~c"HTTPS://issuer.example/jwks", false) == :ok
      assert @http.allowed_uri(~c"http://127.0.0.1:8080/jwks", true) == :ok

      assert @http.allowed_uri(~c"http://issuer.example/jwks", false) ==
               {:error, {:insecure_uri, "http://issuer.example/jwks"}}

      assert @http.allowed_uri(~c"ftp://issuer.example/jwks", true) ==
               {:error, {:insecure_uri, "ftp://issuer.example/jwks"}}
    end

    test "a URL without a host is refused" do
      assert @http.allowed_uri(~c"/jwks", true) == {:error, {:bad_uri, "/jwks"}}
      assert @http.allowed_uri(~c"https:///jwks", true) == {:error, {:bad_uri, "https:///jwks"}}
    end
  end

  describe "content_length/1" do
    test "Content-Length is a number or unknown" do
      assert @http.content_length(headers([{"content-length", "1048577"}])) == 1_048_577
      assert @http.content_length([]) == :undefined
      assert @http.content_length(headers([{"content-length", "lots"}])) == :undefined
    end
  end

  describe "ssl_options/2" do
    test "verifies the peer and the host name, with SNI for a name" do
      opts = @http.ssl_options(~c"https://issuer.example/jwks", cfg())
      assert Keyword.fetch!(opts, :verify) == :verify_peer
      assert Keyword.fetch!(opts, :depth) == 4
      assert Keyword.fetch!(opts, :server_name_indication) == ~c"issuer.example"
      assert [match_fun: fun] = Keyword.fetch!(opts, :customize_hostname_check)
      assert is_function(fun)
      assert Keyword.has_key?(opts, :cacerts)
    end

    test "no SNI for an IP address, v4 or v6" do
      for uri <- [~c"https://127.0.0.1:8443/jwks", ~c"https://[::1]:8443/jwks"] do
        refute Keyword.has_key?(@http.ssl_options(uri, cfg()), :server_name_indication)
      end
    end

    test "the ssl option overrides the defaults key by key" do
      user = [cacerts: ["der"], verify: :verify_none]
      opts = @http.ssl_options(~c"https://issuer.example/jwks", cfg(ssl: user))
      assert Enum.take(opts, 2) == user
      assert Keyword.get_values(opts, :verify) == [:verify_none]
      assert Keyword.get_values(opts, :cacerts) == [["der"]]
      assert Keyword.fetch!(opts, :depth) == 4

      opts = @http.ssl_options(~c"https://issuer.example/jwks", cfg(ssl: [cacertfile: "ca.pem"]))
      refute Keyword.has_key?(opts, :cacerts)
    end
  end
end
