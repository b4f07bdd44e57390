package floor;

import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The smallest application of a member's stack: Spring Boot's auto-configuration of whatever the build put on the
 * class path, and one endpoint, which floor.sh asks to know it is up (the stack variant also answers the actuator's
 * readiness probe, as a member does).
 */
@SpringBootApplication
@RestController
public class FloorApplication {

    public static void main(String[] args) {
        SpringApplication.run(FloorApplication.class, args);
    }

    @GetMapping("/ready")
    Map<String, String> ready() {
        return Map.of("status", "UP");
    }
}
