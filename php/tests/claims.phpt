--TEST--
Claims as an associative array: integers exact, never a silent float; JSON types kept
--DESCRIPTION--
Guards the conversion of the verified payload: objects become associative arrays (numeric
member names become int keys, as json_decode does) whose members come sorted by name,
bytewise, at every level (the core's order; json_decode keeps the document's, so the
comparison with it sorts both sides first), int64 values come back exactly,
fractions and exponents as floats, and an integer beyond PHP's int range is refused
(bad_payload; bad_header in verify_jws's header) rather than rounded. A number beyond a
double's range never gets here: the core's JSON layer refuses it (bad_payload, exp
included, before any claim is read). Also verify_jws(), which hands back the header and
the payload bytes untouched.
--EXTENSIONS--
jwks_verify
--FILE--
<?php
require __DIR__ . '/inc/util.php';

use function JwksVerify\verify;

$ks = jv_fixture_keys();
$key = jv_fixture_rsa();
$opts = ['now' => JV_FIXTURE_NOW];

$payload = '{"exp":1700003600,"max":9223372036854775807,"min":-9223372036854775808,'
    . '"zero":-0,"half":1.5,"sci":1E2,"tiny":5e-324,"t":true,"f":false,"n":null,'
    . '"list":[1,"two",[3],{"four":4}],"obj":{"a":{"b":{}}},"empty":[],'
    . '"123":"numeric name","":"empty name","utf8":"\u00e9\u20ac\ud83d\ude00 é€"}';
$claims = verify(jv_sign_raw(JV_RS256_HEADER, $payload, $key), $ks, $opts);
var_dump($claims);
echo 'max === PHP_INT_MAX: ', var_export($claims['max'] === PHP_INT_MAX, true), "\n";
echo 'min === PHP_INT_MIN: ', var_export($claims['min'] === PHP_INT_MIN, true), "\n";
echo 'same as json_decode, order aside: ',
    var_export(jv_ksort_deep($claims) === jv_ksort_deep(json_decode($payload, true)), true), "\n";
echo 'sorted by name: ', var_export($claims === jv_ksort_deep($claims), true), "\n";
$order = '{"exp":1700003600,"b":1,"a":{"z":1,"y":[{"q":1,"p":2}],"\u00e9":3,"Z":4,"":5},"10":1,"9":1,"B":1}';
echo 'order: ', json_encode(verify(jv_sign_raw(JV_RS256_HEADER, $order, $key), $ks, $opts),
    JSON_UNESCAPED_UNICODE), "\n";

foreach ([
    'one past int64 max' => '{"exp":1700003600,"id":9223372036854775808}',
    'one past int64 min' => '{"exp":1700003600,"id":-9223372036854775809}',
    'a 40-digit integer' => '{"exp":1700003600,"x":[1,{"y":1234567890123456789012345678901234567890}]}',
    'beyond a float'     => '{"exp":1700003600,"x":1e400}',
    'exp 2^63'           => '{"exp":9223372036854775808}',
    'exp 1e400'          => '{"exp":1e400}',
    'exp a fraction'     => '{"exp":1700003600.5}',
    'exp a string'       => '{"exp":"1700003600"}',
] as $what => $p) {
    try {
        verify(jv_sign_raw(JV_RS256_HEADER, $p, $key), $ks, $opts);
        printf("%-19s accepted\n", $what);
    } catch (JwksVerify\VerificationException $e) {
        printf("%-19s %s\n", $what, $e->getMessage());
    }
}

$text = 'not JSON at all: {';
$r = JwksVerify\verify_jws(jv_sign_raw(JV_RS256_HEADER, $text, $key), $ks, $opts);
echo 'verify_jws: ', json_encode($r['header']), ' ', var_export($r['payload'] === $text, true), "\n";
echo 'verify of it: ', jv_outcome(fn () => verify(jv_sign_raw(JV_RS256_HEADER, $text, $key), $ks, $opts)), "\n";
$big = jv_sign_raw('{"alg":"RS256","kid":"rsa-2048","x":18446744073709551616}', '{"exp":1700003600}', $key);
echo 'verify_jws, big integer in the header: ', jv_outcome(fn () => JwksVerify\verify_jws($big, $ks, $opts)), "\n";
echo 'verify of it (the header is not returned): ', jv_outcome(fn () => verify($big, $ks, $opts)), "\n";
?>
--EXPECT--
array(16) {
  [""]=>
  string(10) "empty name"
  [123]=>
  string(12) "numeric name"
  ["empty"]=>
  array(0) {
  }
  ["exp"]=>
  int(1700003600)
  ["f"]=>
  bool(false)
  ["half"]=>
  float(1.5)
  ["list"]=>
  array(4) {
    [0]=>
    int(1)
    [1]=>
    string(3) "two"
    [2]=>
    array(1) {
      [0]=>
      int(3)
    }
    [3]=>
    array(1) {
      ["four"]=>
      int(4)
    }
  }
  ["max"]=>
  int(9223372036854775807)
  ["min"]=>
  int(-9223372036854775808)
  ["n"]=>
  NULL
  ["obj"]=>
  array(1) {
    ["a"]=>
    array(1) {
      ["b"]=>
      array(0) {
      }
    }
  }
  ["sci"]=>
  float(100)
  ["t"]=>
  bool(true)
  ["tiny"]=>
  float(5.0E-324)
  ["utf8"]=>
  string(15) "é€😀 é€"
  ["zero"]=>
  int(0)
}
max === PHP_INT_MAX: true
min === PHP_INT_MIN: true
same as json_decode, order aside: true
sorted by name: true
order: {"10":1,"9":1,"B":1,"a":{"":5,"Z":4,"y":[{"p":2,"q":1}],"z":1,"é":3},"b":1,"exp":1700003600}
one past int64 max  bad_payload: a number is an integer beyond PHP's int range
one past int64 min  bad_payload: a number is an integer beyond PHP's int range
a 40-digit integer  bad_payload: a number is an integer beyond PHP's int range
beyond a float      bad_payload: the token's payload is not a strict JSON object of claims
exp 2^63            invalid_claim: a claim has an invalid value: "exp"
exp 1e400           bad_payload: the token's payload is not a strict JSON object of claims
exp a fraction      invalid_claim: a claim has an invalid value: "exp"
exp a string        invalid_claim: a claim has an invalid value: "exp"
verify_jws: {"alg":"RS256","kid":"rsa-2048","typ":"JWT"} true
verify of it: bad_payload
verify_jws, big integer in the header: bad_header
verify of it (the header is not returned): ok
