package dev.fabric.spawner.role;

/**
 * What happens when a member of a role is lost with its state (seed: "An attempt can be made to
 * start a new, fresh service instance of the same type -- depending on the service type this may
 * make sense or not. If not, that failure needs to travel up to the application.").
 *
 * @param replaceWhenLost start a fresh member of the same role under a new id; otherwise the loss
 *                        is reported up (a registry event and an error the application sees)
 */
public record RolePolicy(boolean replaceWhenLost) {}
