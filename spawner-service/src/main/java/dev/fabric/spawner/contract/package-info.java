/**
 * The contract between a spawner and its members: the bootstrap handshake's messages
 * ({@link dev.fabric.spawner.contract.BootstrapWire}), the environment a member is started with
 * ({@link dev.fabric.spawner.contract.MemberEnvironment}) and the exit statuses it ends with
 * ({@link dev.fabric.spawner.contract.BootstrapExit}). Both sides import it; member code imports
 * nothing else of the spawner's ({@code MemberIndependenceTest} holds that).
 */
package dev.fabric.spawner.contract;
