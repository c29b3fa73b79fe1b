ExUnit.start(exclude: [:slow, :sanitizer])
