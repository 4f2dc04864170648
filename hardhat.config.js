// Hardhat 3 configuration for lotline's contracts.
//
// The compiler is the solc-js build from npm (`solc`), never a download: CI and developers only reach the npm
// registry. evmVersion is cancun because the embedded py-evm node stops at Prague (solc 0.8.37 defaults to
// osaka). The in-process test network runs Prague, the fork the embedded node runs.
import { createRequire } from "node:module";

import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import hardhatEthersChaiMatchers from "@nomicfoundation/hardhat-ethers-chai-matchers";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import { defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);

const SOLIDITY_SETTINGS = {
  evmVersion: "cancun",
  optimizer: { enabled: true, runs: 200 },
};

export default defineConfig({
  plugins: [hardhatEthers, hardhatEthersChaiMatchers, hardhatMocha, hardhatNetworkHelpers],
  solidity: {
    version: "0.8.37",
    path: require.resolve("solc/soljson.js"),
    settings: SOLIDITY_SETTINGS,
  },
  paths: {
    sources: "contracts",
    tests: { mocha: "contracts/test" },
  },
  networks: {
    default: { type: "edr-simulated", chainType: "l1", hardfork: "prague" },
  },
});
