package dev.fabric.core.problem;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.validation.ConstraintViolationException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * Installs {@link FabricProblemAdvice} in every fabric web service, in place of Spring Boot's own
 * {@code ProblemDetailsExceptionHandler} (so {@code spring.mvc.problemdetails.enabled} has no
 * effect in a fabric service). The service's {@link ProblemTranslator} beans are handed to it.
 */
@AutoConfiguration(beforeName = "org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration")
@ConditionalOnClass({ResponseEntityExceptionHandler.class, MeterRegistry.class, ConstraintViolationException.class})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
public class FabricProblemAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(ResponseEntityExceptionHandler.class)
    FabricProblemAdvice fabricProblemAdvice(ObjectProvider<ProblemTranslator> translators, ObjectProvider<MeterRegistry> meters) {
        return new FabricProblemAdvice(translators.orderedStream().toList(), meters.getIfAvailable());
    }
}
