package dev.fabric.spawner.role;

/**
 * What happens when a member of a role is lost with its state: a fresh member of the same role
 * replaces it where an empty one makes sense, else the loss travels up to the application (the
 * registry's LOST state, {@code MemberLostException}).
 *
 * @param replaceWhenLost start a fresh member of the same role under a new id; otherwise the loss
 *                        is reported up (a registry event and an error the application sees)
 */
public record RolePolicy(boolean replaceWhenLost) {}
