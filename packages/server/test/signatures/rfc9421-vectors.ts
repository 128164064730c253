/**
 * Test vectors of RFC 9421 (HTTP Message Signatures), copied as data from the
 * RFC's source (httpwg/http-extensions, draft-ietf-httpbis-message-signatures.md
 * at 6946368e, the text published as RFC 9421), with the RFC 8792 line
 * wrapping undone. Section numbers are the RFC's.
 */

/** B.1.2 `test-key-rsa-pss` (public part; used here only to check signature bases the RFC signed with it). */
export const TEST_KEY_RSA_PSS_PUBLIC = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----
`;

/** B.1.4 `test-key-ed25519`. */
export const TEST_KEY_ED25519_PUBLIC = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
`;
export const TEST_KEY_ED25519_PRIVATE = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
`;

/** B.1.5 `test-shared-secret`: 64 random bytes, base64. */
export const TEST_SHARED_SECRET = `uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==`;

/** B.2 `test-request`. */
export const TEST_REQUEST = {
  method: 'POST',
  target: '/foo?param=Value&Pet=dog',
  headers: {
    host: 'example.com',
    date: 'Tue, 20 Apr 2021 02:07:55 GMT',
    'content-type': 'application/json',
    'content-digest': `sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:`,
    'content-length': '18',
  } as Record<string, string>,
  body: '{"hello": "world"}',
};

/** 2.5 and 3.1-3.2: the example signature base and its rsa-pss-sha512 signature (label sig1). */
export const SECTION_2_5 = {
  base: `"@method": POST
"@authority": example.com
"@path": /foo
"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:
"content-length": 18
"content-type": application/json
"@signature-params": ("@method" "@authority" "@path" "content-digest" "content-length" "content-type");created=1618884473;keyid="test-key-rsa-pss"`,
  signatureInput: `sig1=("@method" "@authority" "@path" "content-digest" "content-length" "content-type");created=1618884473;keyid="test-key-rsa-pss"`,
  signature: `sig1=:HIbjHC5rS0BYaa9v4QfD4193TORw7u9edguPh0AW3dMq9WImrlFrCGUDih47vAxi4L2YRZ3XMJc1uOKk/J0ZmZ+wcta4nKIgBkKq0rM9hs3CQyxXGxHLMCy8uqK488o+9jrptQ+xFPHK7a9sRL1IXNaagCNN3ZxJsYapFj+JXbmaI5rtAdSfSvzPuBCh+ARHBmWuNo1UzVVdHXrl8ePL4cccqlazIJdC4QEjrF+Sn4IxBQzTZsL9y9TP5FsZYzHvDqbInkTNigBcE9cKOYNFCn4D/WM7F6TNuZO9EgtzepLWcjTymlHzK7aXq6Am6sfOrpIC49yXjj3ae6HRalVc/g==:`,
};

/** B.2.1 Minimal signature using rsa-pss-sha512. */
export const B_2_1 = {
  base: `"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"`,
  signatureInput: `sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"`,
  signature: `sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:`,
};

/** B.2.2 Selective covered components using rsa-pss-sha512 (a named query parameter, a tag). */
export const B_2_2 = {
  base: `"@authority": example.com
"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:
"@query-param";name="Pet": dog
"@signature-params": ("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example"`,
  signatureInput: `sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example"`,
  signature: `sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDfKtjvuJyE5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17SARYhpTlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4jY3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw==:`,
};

/** B.2.3 Full coverage using rsa-pss-sha512. */
export const B_2_3 = {
  base: `"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@query": ?param=Value&Pet=dog
"@authority": example.com
"content-type": application/json
"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"`,
  signatureInput: `sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"`,
  signature: `sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:`,
};

/** B.2.5 Signing a request using hmac-sha256. */
export const B_2_5 = {
  base: `"date": Tue, 20 Apr 2021 02:07:55 GMT
"@authority": example.com
"content-type": application/json
"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"`,
  signatureInput: `sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"`,
  signature: `sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:`,
};

/** B.2.6 Signing a request using ed25519. */
export const B_2_6 = {
  base: `"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@authority": example.com
"content-type": application/json
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`,
  signatureInput: `sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"`,
  signature: `sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:`,
};

/**
 * B.4 HTTP message transformations: one ed25519 signature (label
 * "transform") over the first message; the next three are transformed in
 * ways that keep it valid, the last two in ways that break it. Headers are
 * [name, value] lines in order, a repeated field on several lines.
 */
export const B_4 = {
  original: {
    method: `GET`,
    target: `/demo?name1=Value1&Name2=value2`,
    headers: [
      [`Host`, `example.org`],
      [`Date`, `Fri, 15 Jul 2022 14:24:55 GMT`],
      [`Accept`, `application/json`],
      [`Accept`, `*/*`],
      [`Signature-Input`, `transform=("@method" "@path" "@authority" "accept");created=1618884473;keyid="test-key-ed25519"`],
      [`Signature`, `transform=:ZT1kooQsEHpZ0I1IjCqtQppOmIqlJPeo7DHR3SoMn0s5JZ1eRGS0A+vyYP9t/LXlh5QMFFQ6cpLt2m0pmj3NDA==:`],
    ] as [string, string][],
  },
  valid: [
  {
    method: `GET`,
    target: `/demo?name1=Value1&Name2=value2&param=added`,
    headers: [
      [`Host`, `example.org`],
      [`Date`, `Fri, 15 Jul 2022 14:24:55 GMT`],
      [`Accept`, `application/json`],
      [`Accept`, `*/*`],
      [`Accept-Language`, `en-US,en;q=0.5`],
      [`Signature-Input`, `transform=("@method" "@path" "@authority" "accept");created=1618884473;keyid="test-key-ed25519"`],
      [`Signature`, `transform=:ZT1kooQsEHpZ0I1IjCqtQppOmIqlJPeo7DHR3SoMn0s5JZ1eRGS0A+vyYP9t/LXlh5QMFFQ6cpLt2m0pmj3NDA==:`],
    ] as [string, string][],
  },
  {
    method: `GET`,
    target: `/demo?name1=Value1&Name2=value2`,
    headers: [
      [`Host`, `example.org`],
      [`Referer`, `https://developer.example.org/demo`],
      [`Accept`, `application/json, */*`],
      [`Signature-Input`, `transform=("@method" "@path" "@authority" "accept");created=1618884473;keyid="test-key-ed25519"`],
      [`Signature`, `transform=:ZT1kooQsEHpZ0I1IjCqtQppOmIqlJPeo7DHR3SoMn0s5JZ1eRGS0A+vyYP9t/LXlh5QMFFQ6cpLt2m0pmj3NDA==:`],
    ] as [string, string][],
  },
  {
    method: `GET`,
    target: `/demo?name1=Value1&Name2=value2`,
    headers: [
      [`Accept`, `application/json`],
      [`Accept`, `*/*`],
      [`Date`, `Fri, 15 Jul 2022 14:24:55 GMT`],
      [`Host`, `example.org`],
      [`Signature-Input`, `transform=("@method" "@path" "@authority" "accept");created=1618884473;keyid="test-key-ed25519"`],
      [`Signature`, `transform=:ZT1kooQsEHpZ0I1IjCqtQppOmIqlJPeo7DHR3SoMn0s5JZ1eRGS0A+vyYP9t/LXlh5QMFFQ6cpLt2m0pmj3NDA==:`],
    ] as [string, string][],
  },
  ],
  invalid: [
  {
    method: `POST`,
    target: `/demo?name1=Value1&Name2=value2`,
    headers: [
      [`Host`, `example.com`],
      [`Date`, `Fri, 15 Jul 2022 14:24:55 GMT`],
      [`Accept`, `application/json`],
      [`Accept`, `*/*`],
      [`Signature-Input`, `transform=("@method" "@path" "@authority" "accept");created=1618884473;keyid="test-key-ed25519"`],
      [`Signature`, `transform=:ZT1kooQsEHpZ0I1IjCqtQppOmIqlJPeo7DHR3SoMn0s5JZ1eRGS0A+vyYP9t/LXlh5QMFFQ6cpLt2m0pmj3NDA==:`],
    ] as [string, string][],
  },
  {
    method: `GET`,
    target: `/demo?name1=Value1&Name2=value2`,
    headers: [
      [`Host`, `example.org`],
      [`Date`, `Fri, 15 Jul 2022 14:24:55 GMT`],
      [`Accept`, `*/*`],
      [`Accept`, `application/json`],
      [`Signature-Input`, `transform=("@method" "@path" "@authority" "accept");created=1618884473;keyid="test-key-ed25519"`],
      [`Signature`, `transform=:ZT1kooQsEHpZ0I1IjCqtQppOmIqlJPeo7DHR3SoMn0s5JZ1eRGS0A+vyYP9t/LXlh5QMFFQ6cpLt2m0pmj3NDA==:`],
    ] as [string, string][],
  },
  ],
  base: `"@method": GET
"@path": /demo
"@authority": example.org
"accept": application/json, */*
"@signature-params": ("@method" "@path" "@authority" "accept");created=1618884473;keyid="test-key-ed25519"`,
};
