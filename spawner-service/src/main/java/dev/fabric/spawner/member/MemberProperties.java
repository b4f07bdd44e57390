package dev.fabric.spawner.member;

import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import java.time.Duration;

/**
 * A member's timing ({@code fabric.member.*}).
 *
 * @param spawnerTimeout how long a member keeps dialing an unreachable spawner (modes 1, 2) before it exits SPAWNER_UNREACHABLE
 * @param configureTimeout how long it waits for its spawner's keys (mode 3) and configuration before it exits NOT_CONFIGURED
 * @param heartbeatInterval how often it heartbeats to the registry
 */
@ConfigurationProperties("fabric.member")
@Validated
public record MemberProperties(@NotNull @DefaultValue("20s") Duration spawnerTimeout,
                               @NotNull @DefaultValue("60s") Duration configureTimeout,
                               @NotNull @DefaultValue("2s") Duration heartbeatInterval) {}
