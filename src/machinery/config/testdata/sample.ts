/**
 * Test fixtures for the config module: one valid machine config touching
 * every section, with dummy (syntactically PEM-shaped, cryptographically
 * meaningless) certificate and key so redaction has something to hide.
 */

/** A PEM-shaped block the schema accepts as a certificate; not a real cert. */
export const dummyCertPem = `-----BEGIN CERTIFICATE-----
MIIBdummyCERTIFICATEdataXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX
-----END CERTIFICATE-----
`;

/** A PEM-shaped block the schema accepts as a private key; not a real key. */
export const dummyKeyPem = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIdummyPRIVATEkeyXXXXXXXXXXXXXXXXXXXXXXXX
-----END PRIVATE KEY-----
`;

const indent = (s: string, n: number) =>
  s
    .trimEnd()
    .split("\n")
    .map((l) => " ".repeat(n) + l)
    .join("\n");

/** A valid MachineConfig in YAML, as a user would write it (defaults omitted, mode in octal). */
export const sampleConfigYaml = `apiVersion: cairn.dev/v1alpha1
kind: MachineConfig
machine:
  hostname: node-1
  network:
    interfaces:
      - name: eth0
        addresses: [10.5.0.2/24]
        routes:
          - network: 0.0.0.0/0
            gateway: 10.5.0.1
        mtu: 1500
      - mac: "52:54:00:12:34:56"
        dhcp: true
    nameservers: [1.1.1.1]
  time:
    servers: [time.cloudflare.com]
  sysctls:
    net.ipv4.ip_forward: "1"
  files:
    - path: /etc/motd
      content: hello
      mode: 0644
  env:
    HTTP_PROXY: http://proxy:3128
  kernel:
    args: [console=ttyS0]
    modules:
      - name: br_netfilter
  install:
    disk: /dev/vda
  update:
    repository: http://10.0.2.2:8080/repo
    channel: stable
    checkIntervalSeconds: 600
    windows:
      - days: [Sat, Sun]
        start: "23:30"
        lengthMinutes: 120
    jitterSeconds: 300
    reboot:
      strategy: coordinated
      maxConcurrent: 1
    coordination:
      etcd:
        endpoints: [https://10.0.2.2:2379]
        ca: |
${indent(dummyCertPem, 10)}
        cert: |
${indent(dummyCertPem, 10)}
        key: |
${indent(dummyKeyPem, 10)}
  api:
    certSANs: [node-1.example]
  workloads:
    - name: web
      image: registry.example:5000/team/web:1.0
      args: [serve, --port, "8080"]
      env:
        MODE: prod
      mounts:
        - source: /var/lib/web
          destination: /data
      resources:
        cpu: 0.5
        memory: 128Mi
      readOnlyRootfs: true
  registries:
    registry.example:5000:
      ca: |
${indent(dummyCertPem, 8)}
      username: puller
      password: dummy-registry-password
  ca:
    cert: |
${indent(dummyCertPem, 6)}
    key: |
${indent(dummyKeyPem, 6)}
cluster:
  name: lab
`;
